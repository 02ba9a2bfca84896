-- wrk script: cycles through locate requests over many communes and years,
-- so that the benchmark does not measure one hot path.
local codes = {"35238", "76351", "27229", "27016", "50173", "75056", "13055", "69123", "31555", "2A004",
               "35288", "76540", "33063", "44109", "67482", "59350", "34172", "06088", "21231", "29019"}
local docs = {"permis-de-construire", "cadastre", "acte-notarie", "acte-de-naissance"}
local years = {"1890", "1950", "1985", "2015", "2024", "inconnu"}
local i = 0
request = function()
  i = i + 1
  local path = "/api/v1/locate?document_type=" .. docs[(i % #docs) + 1] ..
    "&commune=" .. codes[(i % #codes) + 1] .. "&year=" .. years[(i % #years) + 1]
  return wrk.format("GET", path)
end
