-- wrk script for the kv benchmark. Arguments (after `--`):
--   system  "weftkit" | "etcd"
--   op      "put" | "get"
--   keys    number of distinct keys (bench:0 .. bench:keys-1)
--   valueBytes  size of a PUT value
--   auth    value of the Authorization header ("" for none)
-- Every request is formatted once in init(); request() only picks one at random.

local function base64(s)
  local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local c1 = math.floor(n / 262144) % 64
    local c2 = math.floor(n / 4096) % 64
    local c3 = math.floor(n / 64) % 64
    local c4 = n % 64
    out[#out + 1] = alphabet:sub(c1 + 1, c1 + 1) .. alphabet:sub(c2 + 1, c2 + 1)
      .. (b and alphabet:sub(c3 + 1, c3 + 1) or "=") .. (c and alphabet:sub(c4 + 1, c4 + 1) or "=")
  end
  return table.concat(out)
end

local requests = {}
local count = 0

function init(args)
  local system, op = args[1], args[2]
  local keys = tonumber(args[3])
  local valueBytes = tonumber(args[4])
  local auth = args[5] or ""
  local value = string.rep("v", valueBytes)
  local headers = {}
  if auth ~= "" then headers["Authorization"] = auth end
  for i = 0, keys - 1 do
    local key = "bench:" .. i
    local req
    if system == "weftkit" then
      if op == "put" then
        headers["Content-Type"] = "application/octet-stream"
        req = wrk.format("PUT", "/items/" .. key, headers, value)
      else
        req = wrk.format("GET", "/items/" .. key, headers)
      end
    else
      headers["Content-Type"] = "application/json"
      if op == "put" then
        req = wrk.format("POST", "/v3/kv/put", headers,
          '{"key":"' .. base64(key) .. '","value":"' .. base64(value) .. '"}')
      else
        req = wrk.format("POST", "/v3/kv/range", headers, '{"key":"' .. base64(key) .. '"}')
      end
    end
    requests[i + 1] = req
  end
  count = keys
  math.randomseed(os.time() + (tonumber(tostring({}):match("(%x+)$"), 16) or 0) % 1000003)
end

function request()
  return requests[math.random(count)]
end
