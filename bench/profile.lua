-- Profile with an access token: GET /auth/profile, rotating over the captured tokens.
dofile("bench/lib.lua")

local tokens, i
function init(args)
  tokens = lines("LK_TOKENS")
  i = id * 7919
end

function request()
  i = i + 1
  return wrk.format("GET", "/api/client/v2.0/auth/profile",
    { Authorization = "Bearer " .. field(tokens[i % #tokens + 1], 1) })
end
