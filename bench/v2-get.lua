-- wrk script: v2 GET /v2/keys/bench/<n> over the 1000 keys v2-put.lua writes (the bench preloads them).
local n = 0
wrk.method = "GET"

request = function()
  n = (n + 1) % 1000
  return wrk.format(nil, "/v2/keys/bench/" .. n)
end
