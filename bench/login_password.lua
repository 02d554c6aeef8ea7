-- Password login: bench-N@example.com for N below LK_PASSWORD_USERS, argon2id each time.
dofile("bench/lib.lua")

local users, password, i
function init(args)
  users = tonumber(os.getenv("LK_PASSWORD_USERS") or "64")
  password = os.getenv("LK_PASSWORD") or "bench-password"
  i = id * 7919
end

function request()
  i = i + 1
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json" },
    '{"username":"bench-' .. (i % users) .. '@example.com","password":"' .. password .. '"}')
end
