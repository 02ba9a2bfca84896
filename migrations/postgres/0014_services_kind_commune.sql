-- The town hall of a commune, and the services of a kind, found by index:
-- the one-town-hall-per-commune check runs after every write to services,
-- and an Annuaire import brings one town hall per commune (about 35,000).
CREATE INDEX services_kind_commune ON services (kind, commune);
