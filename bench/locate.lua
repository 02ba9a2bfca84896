-- wrk script: cycles through locate requests over many communes and years,
-- so that the benchmark does not measure one hot path. The 480 requests are
-- formatted once per thread; request() hands out the prepared strings, as
-- healthz.lua does with its one request.
local codes = {"35238", "76351", "27229", "27016", "50173", "75056", "13055", "69123", "31555", "2A004",
               "35288", "76540", "33063", "44109", "67482", "59350", "34172", "06088", "21231", "29019"}
local docs = {"permis-de-construire", "cadastre", "acte-notarie", "acte-de-naissance"}
local years = {"1890", "1950", "1985", "2015", "2024", "inconnu"}
local reqs = {}
local i = 0
init = function(args)
  for n = 1, #codes * #docs * #years do
    local path = "/api/v1/locate?document_type=" .. docs[(n % #docs) + 1] ..
      "&commune=" .. codes[(n % #codes) + 1] .. "&year=" .. years[(n % #years) + 1]
    reqs[n] = wrk.format("GET", path)
  end
end
request = function()
  i = i % #reqs + 1
  return reqs[i]
end
