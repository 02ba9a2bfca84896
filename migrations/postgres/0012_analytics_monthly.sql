-- Monthly sums of the daily aggregates, kept in step with them by every
-- write of daily rows (the roll-up, imports of past figures). Long periods
-- (the public statistics, a dashboard over months) read these: three years
-- are 36 rows per key instead of 1,096.
CREATE TABLE analytics_monthly (
    -- YYYY-MM
    month  TEXT NOT NULL,
    kind   TEXT NOT NULL,
    guide  TEXT NOT NULL DEFAULT '',
    site   TEXT NOT NULL DEFAULT '',
    dim    TEXT NOT NULL DEFAULT '',
    value  TEXT NOT NULL DEFAULT '',
    events BIGINT NOT NULL,
    -- Sum of daily distinct runs.
    runs   BIGINT NOT NULL,
    PRIMARY KEY (kind, month, guide, site, dim, value)
);
CREATE INDEX analytics_monthly_guide ON analytics_monthly (guide, kind, month);
-- Recomputing one month reads its days.
CREATE INDEX analytics_daily_day ON analytics_daily (day);

-- Rows summing every site (site '*', never a real site key): queries that
-- neither filter nor group by site read only these.
INSERT INTO analytics_daily (day, kind, guide, site, dim, value, events, runs)
SELECT day, kind, guide, '*', dim, value, SUM(events), SUM(runs)
FROM analytics_daily
GROUP BY day, kind, guide, dim, value;

INSERT INTO analytics_monthly (month, kind, guide, site, dim, value, events, runs)
SELECT substr(day, 1, 7), kind, guide, site, dim, value, SUM(events), SUM(runs)
FROM analytics_daily
GROUP BY substr(day, 1, 7), kind, guide, site, dim, value;
