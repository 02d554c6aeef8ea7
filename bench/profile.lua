-- Profile with an access token: GET /auth/profile, rotating over the captured tokens.
dofile("bench/lib.lua")

bearer("GET", "/api/client/v2.0/auth/profile", "LK_TOKENS", 1)
