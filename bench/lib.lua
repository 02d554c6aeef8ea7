-- Shared by bench/*.lua (loaded with dofile from the repository root, where bench/run runs
-- wrk). Each wrk thread has its own Lua state; setup() numbers them so that threads start at
-- different places in the lists.

local threads = {}
function setup(thread)
  threads[#threads + 1] = thread
  thread:set("id", #threads)
end

-- expect makes the script's response count, in invalid, the 2xx answers whose body lacks
-- any of the plain strings given (such as '"valid":true'), so that a scenario whose server
-- answers fast but wrongly cannot look fast; done reports the count.
invalid = 0
function expect(...)
  local want = { ... }
  function response(status, headers, body)
    if status < 200 or status > 299 then return end
    for _, w in ipairs(want) do
      if not body:find(w, 1, true) then
        invalid = invalid + 1
        return
      end
    end
  end
end

-- lines returns the non-empty lines of the file named by the environment variable.
function lines(env)
  local path = os.getenv(env)
  assert(path, env .. " is not set")
  local t = {}
  for l in io.lines(path) do
    if #l > 0 then t[#t + 1] = l end
  end
  assert(#t > 0, path .. " is empty")
  return t
end

-- field returns the n-th space-separated field of s.
function field(s, n)
  local i = 0
  for f in s:gmatch("%S+") do
    i = i + 1
    if i == n then return f end
  end
end

-- credential makes the script's init and request: each request is method path with the
-- next line of the file the environment variable env names (or that line's n-th field, when
-- n is given) in the headers that header(line) returns.
function credential(method, path, env, n, header)
  local lines_, i
  function init(args)
    lines_ = lines(env)
    i = id * 7919
  end

  function request()
    i = i + 1
    local t = lines_[i % #lines_ + 1]
    if n then t = field(t, n) end
    return wrk.format(method, path, header(t))
  end
end

-- bearer is credential with each line (or its n-th field) as a bearer token.
function bearer(method, path, env, n)
  credential(method, path, env, n, function(t) return { Authorization = "Bearer " .. t } end)
end

-- cookie is credential with each line ("name=value") as a cookie.
function cookie(method, path, env)
  credential(method, path, env, nil, function(t) return { Cookie = t } end)
end

-- done prints one machine-readable line for bench/run: scenario, requests/s, p50 and p99 in
-- milliseconds, requests, non-2xx/3xx answers, socket errors, and the 2xx answers expect
-- found wrong (0 where the script expects nothing).
function done(summary, latency, requests)
  local e = summary.errors
  local bad = 0
  for _, t in ipairs(threads) do bad = bad + (tonumber(t:get("invalid")) or 0) end
  io.write(string.format("RESULT %s %.1f %.2f %.2f %d %d %d %d\n", os.getenv("LK_SCENARIO") or "?",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, summary.requests, e.status, e.connect + e.read + e.write + e.timeout, bad))
end
