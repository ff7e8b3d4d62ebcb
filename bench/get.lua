-- wrk script: GET with the caller's headers, statuses counted (bench/queues.py, figures.py,
-- api.py).
--   BENCH_HEADERS=$'Cookie: mb_session=...' wrk -t2 -c4 -d10s --latency -s bench/get.lua URL
--   BENCH_HEADERS=$'Authorization: Bearer mbx_...' ...
-- BENCH_HEADERS: "Name: value" lines, sent with every request (may be empty).
-- BENCH_PATHS_FILE (optional): one path a line; thread k of BENCH_THREADS asks for paths
-- k, k+n, ... in turn, instead of the URL's path (so a cache sees many different requests).

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local report = dofile(here .. "report.lua")

for line in (os.getenv("BENCH_HEADERS") or ""):gmatch("[^\n]+") do
  local name, value = line:match("^([^:]+):%s*(.-)%s*$")
  if name then wrk.headers[name] = value end
end
wrk.headers["Accept-Language"] = wrk.headers["Accept-Language"] or "zh-CN,zh;q=0.9"

local paths_file = os.getenv("BENCH_PATHS_FILE") or ""
local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
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
  if paths_file == "" then return end
  local paths = {}
  for line in io.lines(paths_file) do
    if line ~= "" then paths[#paths + 1] = line end
  end
  if #paths == 0 then error("no paths in " .. paths_file) end
  for i = id + 1, #paths, nthreads do
    requests[#requests + 1] = wrk.format("GET", paths[i])
  end
  if #requests == 0 then requests[1] = wrk.format("GET", paths[1]) end
end

if paths_file ~= "" then
  function request()
    local req = requests[position]
    position = position % #requests + 1
    return req
  end
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, reqs)
  report.done(summary, latency, threads)
end
