-- wrk script for the baseline: the same scripted request path as
-- locate.lua, so that both runs carry the same client-side cost.
request = function()
  return wrk.format("GET", "/healthz")
end
