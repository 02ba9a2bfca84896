-- A service's identifier in the FranceArchives directory (the match key of
-- `import francearchives`), its page on FranceArchives, and a template of
-- the search in its own online inventories (`{commune}`, `{annee}`,
-- `{document}` placeholders).

ALTER TABLE services ADD COLUMN francearchives_id TEXT;
ALTER TABLE services ADD COLUMN francearchives_url TEXT;
ALTER TABLE services ADD COLUMN search_url TEXT;
CREATE UNIQUE INDEX services_francearchives_id ON services (francearchives_id);
