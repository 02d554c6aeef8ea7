-- Refresh: POST /auth/session with a refresh token, rotating over the captured tokens.
dofile("bench/lib.lua")

local tokens, i
function init(args)
  tokens = lines("LK_TOKENS")
  i = id * 7919
end

function request()
  i = i + 1
  return wrk.format("POST", "/api/client/v2.0/auth/session",
    { Authorization = "Bearer " .. field(tokens[i % #tokens + 1], 2) })
end
