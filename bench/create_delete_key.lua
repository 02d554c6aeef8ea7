-- Create and delete keys: each thread creates a key as one of the email/password users, and
-- deletes it with its next request. The key's name carries the index of its user's token, so
-- that the answer tells whom to delete it as. Requests/s counts creates and deletes alike.
dofile("bench/lib.lua")

local tokens, n, pending
function init(args)
  tokens = lines("LK_USER_TOKENS")
  n = id * 7919
  pending = {}
end

function request()
  local p = table.remove(pending)
  if p then
    return wrk.format("DELETE", "/api/client/v2.0/auth/api_keys/" .. p.id,
      { Authorization = "Bearer " .. tokens[p.t] })
  end
  n = n + 1
  local t = n % #tokens + 1
  return wrk.format("POST", "/api/client/v2.0/auth/api_keys",
    { Authorization = "Bearer " .. tokens[t], ["Content-Type"] = "application/json" },
    '{"name":"b' .. t .. '-' .. id .. '-' .. n .. '"}')
end

function response(status, headers, body)
  if status == 201 then
    local kid = body:match('"_id":"([^"]+)"')
    local t = body:match('"name":"b(%d+)%-')
    if kid and t then pending[#pending + 1] = { id = kid, t = tonumber(t) } end
  end
end
