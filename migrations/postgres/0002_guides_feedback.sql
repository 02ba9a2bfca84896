-- What people tell us from the guide pages. Nothing personal is stored:
-- no address, no identifier, only what they chose to write.

CREATE TABLE feedback (
    id            BIGSERIAL PRIMARY KEY,
    created_at    TEXT NOT NULL,
    guide         TEXT NOT NULL,
    document_type TEXT,
    commune       TEXT,
    rating        BIGINT NOT NULL CHECK (rating BETWEEN 1 AND 4),
    comment       TEXT,
    site          TEXT,
    lang          TEXT NOT NULL
);

CREATE TABLE suggestions (
    id         BIGSERIAL PRIMARY KEY,
    created_at TEXT NOT NULL,
    guide      TEXT NOT NULL,
    step       TEXT NOT NULL,
    text       TEXT NOT NULL,
    site       TEXT,
    lang       TEXT NOT NULL
);

-- Every saved version of every guide (TOML source). The published one is the
-- highest version with a publication date; a later one is the draft.
CREATE TABLE guide_versions (
    id           BIGSERIAL PRIMARY KEY,
    slug         TEXT NOT NULL,
    version      BIGINT NOT NULL,
    source       TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    published_at TEXT,
    CONSTRAINT guide_versions_key UNIQUE (slug, version)
);
