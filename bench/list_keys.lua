-- List keys: GET /auth/api_keys with the refresh token of an email/password session (key
-- sessions may not manage keys); each user has 5 keys.
dofile("bench/lib.lua")

local tokens, i
function init(args)
  tokens = lines("LK_USER_TOKENS")
  i = id * 7919
end

function request()
  i = i + 1
  return wrk.format("GET", "/api/client/v2.0/auth/api_keys",
    { Authorization = "Bearer " .. tokens[i % #tokens + 1] })
end
