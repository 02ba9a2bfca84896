-- A guide's dashboard reads its sums by guide, kind and period: the same
-- leading columns as before, now with every column those queries read, so
-- that they are answered from the index alone (no lookup of each row in
-- the table). The leading columns are unchanged on purpose: the planner's
-- choice of index for each query stays the same.
DROP INDEX analytics_daily_guide;
CREATE INDEX analytics_daily_guide ON analytics_daily (guide, kind, day, site, dim, value, events, runs);
DROP INDEX analytics_monthly_guide;
CREATE INDEX analytics_monthly_guide ON analytics_monthly (guide, kind, month, site, dim, value, events, runs);
