-- Better Auth's counterpart of Latchkey's profile row: GET /api/auth/get-session with the
-- session cookie of one of the password users (LK_COOKIES, one "name=value" a line). An
-- unknown session is a 200 answering null, so the answer must hold the session.
dofile("bench/lib.lua")

local cookies, i
function init(args)
  cookies = lines("LK_COOKIES")
  i = id * 7919
end

function request()
  i = i + 1
  return wrk.format("GET", "/api/auth/get-session", { Cookie = cookies[i % #cookies + 1] })
end

expect('"session":{', '"user":{')
