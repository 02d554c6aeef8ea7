-- Better Auth's counterpart of Latchkey's profile row: GET /api/auth/get-session with the
-- session cookie of one of the password users (LK_COOKIES, one "name=value" a line). An
-- unknown session is a 200 answering null, so the answer must hold the session.
dofile("bench/lib.lua")

cookie("GET", "/api/auth/get-session", "LK_COOKIES")

expect('"session":{', '"user":{')
