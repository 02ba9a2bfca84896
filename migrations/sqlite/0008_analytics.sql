-- Audience and impact measurement. Nothing personal is stored: no cookie,
-- no address, no user agent, no free text. A run is a random id carried in
-- the guide's own address, linking the steps of one guide run only.

-- Raw events, kept a configurable number of days (default 90), then purged.
CREATE TABLE analytics_events (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    -- UTC, RFC 3339, to the second.
    at            TEXT NOT NULL,
    -- The service's local day (YYYY-MM-DD), which daily figures group by.
    day           TEXT NOT NULL,
    run           TEXT NOT NULL DEFAULT '',
    kind          TEXT NOT NULL,
    guide         TEXT NOT NULL DEFAULT '',
    -- A registered embedding site's key, '' when none.
    site          TEXT NOT NULL DEFAULT '',
    step          TEXT NOT NULL DEFAULT '',
    -- A choice's value, a feedback level, a link kind, a guessed holder kind…
    value         TEXT NOT NULL DEFAULT '',
    document_type TEXT NOT NULL DEFAULT '',
    -- Service ids, space-separated.
    holders       TEXT NOT NULL DEFAULT '',
    -- The host page's origin only (scheme, host, port), '' when none.
    origin        TEXT NOT NULL DEFAULT '',
    date_known    INTEGER CHECK (date_known IN (0, 1)),
    complete      INTEGER CHECK (complete IN (0, 1))
);
CREATE INDEX analytics_events_day ON analytics_events (day);

-- Daily aggregates, recomputed from the raw events of the last days and
-- kept after the raw events are purged. Every page reads these.
CREATE TABLE analytics_daily (
    day    TEXT NOT NULL,
    kind   TEXT NOT NULL,
    guide  TEXT NOT NULL DEFAULT '',
    site   TEXT NOT NULL DEFAULT '',
    dim    TEXT NOT NULL DEFAULT '',
    value  TEXT NOT NULL DEFAULT '',
    events INTEGER NOT NULL,
    -- Distinct runs that day.
    runs   INTEGER NOT NULL,
    PRIMARY KEY (kind, day, guide, site, dim, value)
);
CREATE INDEX analytics_daily_guide ON analytics_daily (guide, kind, day);

-- Secrets of this instance, made once and kept (the key that signs run ids,
-- so that a run id cannot be forged). Never shown, never exported.
CREATE TABLE instance_secrets (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
