-- Back-office accounts, their sessions and one-time links, failed logins,
-- and the history of every change made through the back office.
-- Secrets (session ids, link tokens) are stored only as SHA-256 hashes.
-- Times are ISO 8601 UTC text (YYYY-MM-DDTHH:MM:SSZ), comparable as text.

CREATE TABLE users (
    id            BIGSERIAL PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE CHECK (email = lower(email)),
    role          TEXT NOT NULL CHECK (role IN ('admin', 'editor', 'contributor')),
    active        BIGINT NOT NULL DEFAULT 1,
    password_hash TEXT,
    created_at    TEXT NOT NULL,
    revision      BIGINT NOT NULL DEFAULT 1
);

-- The services a contributor may edit.
CREATE TABLE user_services (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    service TEXT NOT NULL,
    PRIMARY KEY (user_id, service)
);

-- Invitation and password-reset links: single use, expiring.
CREATE TABLE tokens (
    hash       TEXT PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL CHECK (purpose IN ('invitation', 'reset')),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT
);

CREATE TABLE sessions (
    hash       TEXT PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- One row per failed login; counted per account and per (account, address).
CREATE TABLE login_failures (
    email   TEXT NOT NULL,
    address TEXT NOT NULL,
    at      TEXT NOT NULL
);
CREATE INDEX login_failures_email ON login_failures (email, at);

-- Every change made through the back office: before and after as JSON
-- (null before a creation, null after a deletion).
CREATE TABLE history (
    id          BIGSERIAL PRIMARY KEY,
    entity      TEXT NOT NULL,
    entity_key  TEXT NOT NULL,
    user_id     BIGINT REFERENCES users (id),
    user_email  TEXT NOT NULL,
    at          TEXT NOT NULL,
    before_json TEXT,
    after_json  TEXT,
    reverts     BIGINT,
    reverted_by BIGINT
);
CREATE INDEX history_entity ON history (entity, entity_key, id);
