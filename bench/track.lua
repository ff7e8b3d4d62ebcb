-- wrk script: POST /track, rotating over letters made beforehand through the web form.
--   BENCH_CSRF=<token> BENCH_TRACK_FILE=letters.txt BENCH_THREADS=2 \
--       wrk -t2 -c64 -d20s --latency -s bench/track.lua http://127.0.0.1:8000/track
-- BENCH_TRACK_FILE: one "TRACKING_NO QUERY-CODE" per line, as read from /receipt.
-- A tracking number allows 20 look-ups an hour (TRACK_PER_LETTER, fixed in code): thread k
-- of n takes letters k, k+n, k+2n, ... so that each letter is asked for once per round;
-- once a round has gone past 20, the answers are 429 (counted, by status, in BENCH_JSON).

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local report = dofile(here .. "report.lua")
local enc = report.urlencode

local csrf = os.getenv("BENCH_CSRF") or error("set BENCH_CSRF to a token from GET /track")
local path = os.getenv("BENCH_TRACK_FILE") or error("set BENCH_TRACK_FILE")
local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = "mb_csrf=" .. csrf
wrk.headers["Accept-Language"] = "zh-CN,zh;q=0.9,en;q=0.5"

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  threads[#threads + 1] = thread
end

-- In each thread's own Lua state:
local requests = {}
local position = 1
statuses = {}

function init(args)
  local bodies = {}
  for line in io.lines(path) do
    local number, code = line:match("^(%S+)%s+(%S+)")
    if number then
      bodies[#bodies + 1] = "tracking_no=" .. enc(number) .. "&query_code=" .. enc(code) ..
        "&csrf_token=" .. enc(csrf)
    end
  end
  if #bodies == 0 then error("no letters in " .. path) end
  for i = id + 1, #bodies, nthreads do
    requests[#requests + 1] = wrk.format(nil, nil, nil, bodies[i])
  end
  if #requests == 0 then requests[1] = wrk.format(nil, nil, nil, bodies[1]) end
end

function request()
  local req = requests[position]
  position = position % #requests + 1
  return req
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, reqs)
  report.done(summary, latency, threads)
end
