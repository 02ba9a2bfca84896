-- Websites registered to embed guides (`data-site`), and daily usage counts
-- of the guides. Counts are anonymous totals: no address, no identifier.

CREATE TABLE sites (
    key              TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    -- Space-separated origins: https://www.ville.fr https://ville.fr
    origins          TEXT NOT NULL,
    -- 1: only these origins may frame guides asked for with this key.
    restrict_framing INTEGER NOT NULL DEFAULT 0 CHECK (restrict_framing IN (0, 1)),
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);

CREATE TABLE usage_daily (
    day     TEXT NOT NULL,
    guide   TEXT NOT NULL,
    -- The registered site's key; '' when the page was not asked for by one.
    site    TEXT NOT NULL DEFAULT '',
    -- 'embed' (inside the widget) or 'direct' (the guide's own page).
    channel TEXT NOT NULL,
    -- 'start' (first step shown) or 'result' (answer shown).
    event   TEXT NOT NULL,
    count   INTEGER NOT NULL,
    PRIMARY KEY (day, guide, site, channel, event)
);
