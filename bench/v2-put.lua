-- wrk script: v2 PUT /v2/keys/bench/<n> with a form value, n cycling over 1000 keys per thread.
local n = 0
wrk.method = "PUT"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "value=" .. string.rep("v", 64)

request = function()
  n = (n + 1) % 1000
  return wrk.format(nil, "/v2/keys/bench/" .. n)
end
