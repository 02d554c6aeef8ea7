-- Refresh: POST /auth/session with a refresh token, rotating over the captured tokens.
dofile("bench/lib.lua")

bearer("POST", "/api/client/v2.0/auth/session", "LK_TOKENS", 2)
