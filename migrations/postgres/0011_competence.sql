-- A service's competence area: the territories (`commune:…`, `epci:…`,
-- `departement:…`, `france`, joined by `|`) for which a rule's `@<kind>`
-- holder resolves to it. Empty: none, except a town hall's own commune.
-- A département's COG `typeLiaison`, to write "Archives départementales
-- de l'Ain", "du Rhône"; filled by the next `import communes`.

ALTER TABLE services ADD COLUMN competence TEXT NOT NULL DEFAULT '';
ALTER TABLE departements ADD COLUMN liaison INTEGER;
