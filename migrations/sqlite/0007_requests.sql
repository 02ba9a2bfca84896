-- Qualified requests sent by people to the services that hold their
-- documents, the thread of each (messages, notes, status changes, reroutes),
-- their attachments (the files live in the attachments directory, named by
-- `storage_key`), the labels of each service, what each agent has read, and
-- the outbox every mail goes through. Times are ISO 8601 UTC text.
-- The person's access token is stored only as a SHA-256 hash; the reply
-- token (in reply addresses, which agents see too) as it is.

-- Which services take requests through Locadocs (a service setting kept
-- apart from the reference data, which is open data).
CREATE TABLE request_services (
    service    TEXT PRIMARY KEY,
    enabled_at TEXT NOT NULL
);

-- The fields a request for a document type asks for, as JSON
-- (`[{"key", "label", "label_en", "help", "help_en", "required", "kind"}]`).
CREATE TABLE request_forms (
    document_type TEXT PRIMARY KEY,
    fields_json   TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

CREATE TABLE requests (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    reference       TEXT NOT NULL UNIQUE,
    service         TEXT NOT NULL,
    document_type   TEXT NOT NULL,
    commune         TEXT,
    year_from       INTEGER,
    year_to         INTEGER,
    guide           TEXT,
    fields_json     TEXT NOT NULL,
    name            TEXT NOT NULL,
    email           TEXT NOT NULL CHECK (email = lower(email)),
    phone           TEXT,
    body            TEXT NOT NULL,
    lang            TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('nouvelle', 'en_cours', 'attente', 'repondue', 'non_detenu', 'redirigee', 'sans_suite')),
    status_reason   TEXT,
    assignee        INTEGER REFERENCES users (id) ON DELETE SET NULL,
    access_hash     TEXT NOT NULL UNIQUE,
    reply_token     TEXT NOT NULL UNIQUE,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    first_answer_at TEXT,
    closed_at       TEXT,
    notice_sent_at  TEXT,
    reroutes_out    INTEGER NOT NULL DEFAULT 0,
    -- The newest event, for unread markers.
    last_event_id   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX requests_service ON requests (service, status, updated_at);
CREATE INDEX requests_email ON requests (email, created_at);
CREATE INDEX requests_closed ON requests (closed_at);

-- Everything that happens to a request, in order.
CREATE TABLE request_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id  INTEGER NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    at          TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('created', 'message_in', 'message_out', 'note', 'status', 'claim', 'label', 'reroute', 'link_sent')),
    user_id     INTEGER REFERENCES users (id) ON DELETE SET NULL,
    author      TEXT NOT NULL,
    body        TEXT,
    data_json   TEXT,
    service     TEXT NOT NULL
);
CREATE INDEX request_events_request ON request_events (request_id, id);
CREATE INDEX request_events_service ON request_events (service, kind, at);

CREATE TABLE request_attachments (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id  INTEGER NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    event_id    INTEGER REFERENCES request_events (id) ON DELETE CASCADE,
    file_name   TEXT NOT NULL,
    mime        TEXT NOT NULL,
    size        INTEGER NOT NULL,
    storage_key TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL
);
CREATE INDEX request_attachments_request ON request_attachments (request_id);

-- Message-IDs of the mails about a request, to thread replies.
CREATE TABLE request_message_ids (
    message_id TEXT PRIMARY KEY,
    request_id INTEGER NOT NULL REFERENCES requests (id) ON DELETE CASCADE
);

CREATE TABLE request_labels (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    service TEXT NOT NULL,
    name    TEXT NOT NULL,
    UNIQUE (service, name)
);

CREATE TABLE request_label_links (
    request_id INTEGER NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    label_id   INTEGER NOT NULL REFERENCES request_labels (id) ON DELETE CASCADE,
    PRIMARY KEY (request_id, label_id)
);

-- The last event of each request an agent has seen (unread markers).
CREATE TABLE request_reads (
    request_id INTEGER NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    event_id   INTEGER NOT NULL,
    PRIMARY KEY (request_id, user_id)
);

-- Every mail about a request, written in the transaction that decided to
-- send it, sent by a background worker and retried with backoff until the
-- SMTP server accepts it.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id      INTEGER REFERENCES requests (id) ON DELETE SET NULL,
    to_address      TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    message_id      TEXT NOT NULL,
    in_reply_to     TEXT,
    reply_to        TEXT,
    created_at      TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT,
    sent_at         TEXT
);
CREATE INDEX outbox_due ON outbox (sent_at, next_attempt_at);

-- Agents: an account may handle its services' requests without editing
-- data, and chooses how it hears of new requests.
ALTER TABLE users ADD COLUMN requests_only INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN request_notify TEXT NOT NULL DEFAULT 'each' CHECK (request_notify IN ('each', 'digest', 'none'));
ALTER TABLE users ADD COLUMN digest_sent_at TEXT;
-- The newest request the last digest listed: the next one lists those after it.
ALTER TABLE users ADD COLUMN digest_last_request INTEGER;

CREATE INDEX requests_created ON requests (created_at);
