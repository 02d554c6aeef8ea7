-- Better Auth's list keys: GET /api/auth/api-key/list with the session cookie of one of the
-- password users (5 keys each), as Latchkey's list-keys row lists a password user's keys.
dofile("bench/lib.lua")

local cookies, i
function init(args)
  cookies = lines("LK_COOKIES")
  i = id * 7919
end

function request()
  i = i + 1
  return wrk.format("GET", "/api/auth/api-key/list", { Cookie = cookies[i % #cookies + 1] })
end

expect('"apiKeys":[{')
