-- Better Auth's list keys: GET /api/auth/api-key/list with the session cookie of one of the
-- password users (5 keys each), as Latchkey's list-keys row lists a password user's keys.
dofile("bench/lib.lua")

cookie("GET", "/api/auth/api-key/list", "LK_COOKIES")

expect('"apiKeys":[{')
