-- Reference data: territories, document types, services, holding rules.
-- Dates are ISO 8601 text (YYYY-MM-DD); bounds keep the form their author wrote.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO meta (key, value) VALUES ('data_version', 1), ('geo_version', 1);

CREATE TABLE regions (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL
);

CREATE TABLE departements (
    code   TEXT PRIMARY KEY,
    name   TEXT NOT NULL,
    region TEXT NOT NULL
);

CREATE TABLE epcis (
    siren TEXT PRIMARY KEY,
    name  TEXT NOT NULL,
    kind  TEXT NOT NULL
);

CREATE TABLE communes (
    code         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    name         TEXT NOT NULL,
    current_code TEXT,
    departement  TEXT NOT NULL,
    region       TEXT NOT NULL,
    epci         TEXT,
    postal_codes TEXT NOT NULL,
    population   BIGINT,
    liaison      BIGINT,
    former_codes TEXT NOT NULL,
    position     BIGINT NOT NULL,
    PRIMARY KEY (code, kind)
);

CREATE TABLE document_types (
    slug                  TEXT PRIMARY KEY,
    label                 TEXT NOT NULL,
    theme                 TEXT,
    aliases               TEXT NOT NULL DEFAULT '',
    description           TEXT,
    communicability_years BIGINT NOT NULL DEFAULT 0 CHECK (communicability_years >= 0),
    communicability_note  TEXT,
    revision              BIGINT NOT NULL DEFAULT 1,
    updated_at            TEXT NOT NULL
);

CREATE TABLE services (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    kind           TEXT NOT NULL,
    commune        TEXT,
    address        TEXT,
    postal_code    TEXT,
    city           TEXT,
    phone          TEXT,
    email          TEXT,
    website        TEXT,
    request_url    TEXT,
    opening_hours  TEXT,
    response_time  TEXT,
    latitude       DOUBLE PRECISION,
    longitude      DOUBLE PRECISION,
    annuaire_id    TEXT UNIQUE,
    verified_at    TEXT,
    revision       BIGINT NOT NULL DEFAULT 1,
    updated_at     TEXT NOT NULL
);

-- from_bound is '' for "open towards the past" so that the key is unique.
CREATE TABLE holdings (
    id            BIGSERIAL PRIMARY KEY,
    document_type TEXT NOT NULL REFERENCES document_types (slug),
    territory     TEXT NOT NULL,
    from_bound    TEXT NOT NULL DEFAULT '',
    to_bound      TEXT,
    service       TEXT NOT NULL,
    instructions  TEXT,
    source        TEXT,
    verified_at   TEXT,
    revision      BIGINT NOT NULL DEFAULT 1,
    updated_at    TEXT NOT NULL,
    CONSTRAINT holdings_key UNIQUE (document_type, territory, from_bound)
);
CREATE INDEX holdings_service ON holdings (service);
