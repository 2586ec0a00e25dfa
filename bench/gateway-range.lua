-- wrk script: v3 gateway POST /v3/kv/range of one key written by gateway-put.lua (a linearizable read).
wrk.method = "POST"
wrk.path = "/v3/kv/range"
wrk.headers["Content-Type"] = "application/json"
-- key "bench/500" in base64
wrk.body = '{"key":"YmVuY2gvNTAw"}'
