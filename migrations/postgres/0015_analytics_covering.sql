-- A guide's dashboard reads its sums by guide, kind and period: the same
-- key as before, with every other column those queries read included, so
-- that they can be answered by index-only scans.
DROP INDEX analytics_daily_guide;
CREATE INDEX analytics_daily_guide ON analytics_daily (guide, kind, day) INCLUDE (site, dim, value, events, runs);
DROP INDEX analytics_monthly_guide;
CREATE INDEX analytics_monthly_guide ON analytics_monthly (guide, kind, month) INCLUDE (site, dim, value, events, runs);
