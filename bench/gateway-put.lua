-- wrk script: v3 gateway POST /v3/kv/put with a JSON body, keys bench/0..bench/999 (base64).
local bodies = {}
local value = string.rep("v", 64)
local b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

local function b64(s)
  return ((s:gsub(".", function(x)
    local r, b = "", x:byte()
    for i = 8, 1, -1 do r = r .. (b % 2 ^ i - b % 2 ^ (i - 1) > 0 and "1" or "0") end
    return r
  end) .. "0000"):gsub("%d%d%d?%d?%d?%d?", function(x)
    if #x < 6 then return "" end
    local c = 0
    for i = 1, 6 do c = c + (x:sub(i, i) == "1" and 2 ^ (6 - i) or 0) end
    return b64chars:sub(c + 1, c + 1)
  end) .. ({ "", "==", "=" })[#s % 3 + 1])
end

for i = 0, 999 do
  bodies[i] = '{"key":"' .. b64("bench/" .. i) .. '","value":"' .. b64(value) .. '"}'
end

local n = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

request = function()
  n = (n + 1) % 1000
  return wrk.format(nil, "/v3/kv/put", nil, bodies[n])
end
