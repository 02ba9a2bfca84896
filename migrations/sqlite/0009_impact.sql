-- The impact estimate of the public statistics page (/stats): how many
-- minutes a service spends on one misdirected request, and where that figure
-- comes from. One row at most (id = 1), set by an editor in the back office.
CREATE TABLE impact_setting (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    minutes     REAL NOT NULL CHECK (minutes >= 0 AND minutes <= 600),
    source      TEXT NOT NULL CHECK (length(source) BETWEEN 1 AND 1000),
    updated_at  TEXT NOT NULL,
    updated_by  TEXT NOT NULL
);
