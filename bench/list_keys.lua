-- List keys: GET /auth/api_keys with the refresh token of an email/password session (key
-- sessions may not manage keys); each user has 5 keys.
dofile("bench/lib.lua")

bearer("GET", "/api/client/v2.0/auth/api_keys", "LK_USER_TOKENS")
