-- Login and password-reset attempts, counted for rate limits (web/admin/auth.rs).
-- A login attempt is written, with the count checked in the same transaction,
-- before its password is checked, and deleted when it succeeds; so the rows
-- are failures (or attempts in progress). Rows older than the longest window
-- are purged on a schedule, as are expired sessions and spent links.
CREATE TABLE auth_attempts (
    kind    TEXT NOT NULL CHECK (kind IN ('login', 'reset')),
    email   TEXT NOT NULL CHECK (length(email) <= 254),
    address TEXT NOT NULL CHECK (length(address) <= 64),
    at      TEXT NOT NULL
);
CREATE INDEX auth_attempts_email ON auth_attempts (kind, email, at);
CREATE INDEX auth_attempts_address ON auth_attempts (kind, address, at);
CREATE INDEX auth_attempts_at ON auth_attempts (at);

-- Replaced by auth_attempts: its rows only ever mattered for 15 minutes.
DROP TABLE login_failures;

CREATE INDEX tokens_user ON tokens (user_id);
CREATE INDEX tokens_expires ON tokens (expires_at);
CREATE INDEX sessions_expires ON sessions (expires_at);
