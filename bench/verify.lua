-- Verify a key: POST {"key": "…"} with the next of LK_KEYS (one value a line) each time.
-- LK_AUTH, when set, is the Authorization header (Latchkey: "Bearer <server key>"); every
-- 2xx answer must hold each of the '|'-separated strings of LK_EXPECT (default
-- '"valid":true'), or it counts as invalid. Latchkey's verify and the Better Auth peer's
-- run this script.
dofile("bench/lib.lua")

local keys, i, headers
function init(args)
  keys = lines("LK_KEYS")
  i = id * 7919
  headers = { ["Content-Type"] = "application/json" }
  local auth = os.getenv("LK_AUTH")
  if auth and #auth > 0 then headers.Authorization = auth end
end

function request()
  i = i + 1
  return wrk.format("POST", nil, headers, '{"key":"' .. keys[i % #keys + 1] .. '"}')
end

local want = {}
for w in (os.getenv("LK_EXPECT") or '"valid":true'):gmatch("[^|]+") do want[#want + 1] = w end
expect((table.unpack or unpack)(want))
