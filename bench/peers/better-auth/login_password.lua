-- Better Auth's password login: POST /api/auth/sign-in/email as bench-N@example.com for N
-- below LK_PASSWORD_USERS, scrypt each time (N=16384, r=16, p=1).
dofile("bench/lib.lua")

local users, password, i, origin
function init(args)
  users = tonumber(os.getenv("LK_PASSWORD_USERS") or "64")
  password = os.getenv("LK_PASSWORD") or "bench-password"
  origin = os.getenv("LK_ORIGIN")
  i = id * 7919
end

function request()
  i = i + 1
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json", Origin = origin },
    '{"email":"bench-' .. (i % users) .. '@example.com","password":"' .. password .. '"}')
end

expect('"token":"')
