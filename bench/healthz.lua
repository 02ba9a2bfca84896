-- wrk script for the baseline. Like locate.lua, it formats its request
-- once per thread and hands out the prepared string, so that both runs
-- carry the same client-side cost per request.
local req
init = function(args)
  req = wrk.format("GET", "/healthz")
end
request = function()
  return req
end
