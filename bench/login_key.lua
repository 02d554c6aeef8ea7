-- API-key login, each request with the next key of LK_KEYS (one value a line). The floor runs
-- this script too. With LK_CAPTURE set, the access and refresh tokens of the first answers go
-- to LK_CAPTURE.<thread>, "access refresh" a line, for the profile and refresh scenarios.
dofile("bench/lib.lua")

local keys, i, out, captured
function init(args)
  keys = lines("LK_KEYS")
  i = id * 7919
  captured = 0
  if os.getenv("LK_CAPTURE") then out = io.open(os.getenv("LK_CAPTURE") .. "." .. id, "w") end
end

function request()
  i = i + 1
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json" },
    '{"key":"' .. keys[i % #keys + 1] .. '"}')
end

if os.getenv("LK_CAPTURE") then
  function response(status, headers, body)
    if status == 200 and captured < 1000 then
      local a = body:match('"access_token":"([^"]+)"')
      local r = body:match('"refresh_token":"([^"]+)"')
      if a and r then
        out:write(a, " ", r, "\n")
        out:flush()
        captured = captured + 1
      end
    end
  end
end
