-- Better Auth's create and delete key: each thread creates a key as one of the password
-- users (POST /api/auth/api-key/create) and deletes it with its next request (POST
-- /api/auth/api-key/delete), as Latchkey's create-delete-key row does. Both count. The
-- Origin header is the one Better Auth trusts (its CSRF check of cookie requests).
dofile("bench/lib.lua")

local cookies, n, pending, origin
function init(args)
  cookies = lines("LK_COOKIES")
  origin = os.getenv("LK_ORIGIN")
  n = id * 7919
  pending = {}
end

local function headers(t)
  return { Cookie = cookies[t], Origin = origin, ["Content-Type"] = "application/json" }
end

function request()
  local p = table.remove(pending)
  if p then
    return wrk.format("POST", "/api/auth/api-key/delete", headers(p.t), '{"keyId":"' .. p.id .. '"}')
  end
  n = n + 1
  local t = n % #cookies + 1
  return wrk.format("POST", "/api/auth/api-key/create", headers(t), '{"name":"b' .. t .. '-' .. id .. '-' .. n .. '"}')
end

function response(status, headers, body)
  if status ~= 200 then return end
  if body:find('"success":true', 1, true) then return end
  local kid = body:match('"id":"([^"]+)"')
  local t = body:match('"name":"b(%d+)%-')
  if kid and t then
    pending[#pending + 1] = { id = kid, t = tonumber(t) }
  else
    invalid = invalid + 1
  end
end
