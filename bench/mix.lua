-- wrk script: a weighted mix of requests (bench/load.py writes the file), statuses counted.
--   BENCH_MIX_FILE=citizen.tsv BENCH_THREADS=2 wrk -t2 -c64 -d15s --latency \
--       -s bench/mix.lua http://127.0.0.1:8000
-- BENCH_MIX_FILE: one request a line, tab-separated:
--   KIND  WEIGHT  METHOD  PATH  BODY  HEADER...
-- BODY may be empty; "{letter}" in it stands for bench/letter.lua's fields, URL-encoded (the
-- letter submit.lua posts). Each HEADER is "Name: value". Lines of one KIND are its variants:
-- the KIND's weight is that of its first line, and its variants are asked for in turn
-- (thread k of BENCH_THREADS takes variants k, k+n, ...; all of them when there are fewer).
-- Each thread interleaves the kinds by smooth weighted round robin (as nginx balances
-- upstreams): in every run of sum(weights) requests each KIND comes WEIGHT times, spread out
-- rather than in blocks. A file with one KIND is that page alone.
-- BENCH_RECONNECT=N (optional): every Nth request of a thread asks for "Connection: close",
-- and wrk opens a new connection after its answer, as browsers and a proxy's upstream pool
-- come and go. With several server processes, a new connection goes to whichever process
-- accepts it first; without this, each of the 64 connections stays for the whole run with
-- the process that happened to accept it at wrk's start (often one process gets most).

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local report = dofile(here .. "report.lua")

local path = os.getenv("BENCH_MIX_FILE") or error("set BENCH_MIX_FILE")
local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
local reconnect = tonumber(os.getenv("BENCH_RECONNECT") or "0")

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  threads[#threads + 1] = thread
end

local letter_fields = {}
for _, f in ipairs(dofile(here .. "letter.lua")) do
  letter_fields[#letter_fields + 1] = report.urlencode(f[1]) .. "=" .. report.urlencode(f[2])
end
local letter_form = table.concat(letter_fields, "&")

local function split(line)
  local fields = {}
  for field in (line .. "\t"):gmatch("([^\t]*)\t") do
    fields[#fields + 1] = field
  end
  return fields
end

-- In each thread's own Lua state:
local schedule = {}  -- the kinds' requests in order, one round of sum(weights)
local position = 1
local sent = 0
statuses = {}

function init(args)
  local kinds, order = {}, {}
  for line in io.lines(path) do
    if line ~= "" then
      local f = split(line)
      local kind = f[1]
      if not kinds[kind] then
        kinds[kind] = {weight = tonumber(f[2]), lines = {}}
        order[#order + 1] = kind
      end
      local headers = {["Accept-Language"] = "zh-CN,zh;q=0.9"}
      for i = 6, #f do
        local name, value = f[i]:match("^([^:]+):%s*(.-)%s*$")
        if name then headers[name] = value end
      end
      local body = nil
      if f[5] ~= "" then
        body = f[5]:gsub("{letter}", function() return letter_form end)
      end
      local closing = {Connection = "close"}
      for name, value in pairs(headers) do closing[name] = value end
      local kind_lines = kinds[kind].lines
      kind_lines[#kind_lines + 1] = {
        wrk.format(f[3], f[4], headers, body), wrk.format(f[3], f[4], closing, body),
      }
    end
  end
  if #order == 0 then error("no requests in " .. path) end
  for _, kind in ipairs(order) do
    local all, mine = kinds[kind].lines, {}
    for i = id + 1, #all, nthreads do
      mine[#mine + 1] = all[i]
    end
    if #mine == 0 then mine = all end
    kinds[kind].lines, kinds[kind].next = mine, 1
  end
  -- smooth weighted round robin: the kind with the highest running score goes next
  local total, score = 0, {}
  for _, kind in ipairs(order) do
    total = total + kinds[kind].weight
    score[kind] = 0
  end
  for _ = 1, total do
    local best
    for _, kind in ipairs(order) do
      score[kind] = score[kind] + kinds[kind].weight
      if not best or score[kind] > score[best] then best = kind end
    end
    score[best] = score[best] - total
    schedule[#schedule + 1] = kinds[best]
  end
end

function request()
  local kind = schedule[position]
  position = position % #schedule + 1
  local req = kind.lines[kind.next]
  kind.next = kind.next % #kind.lines + 1
  sent = sent + 1
  if reconnect > 0 and sent % reconnect == 0 then return req[2] end
  return req[1]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, reqs)
  report.done(summary, latency, threads)
end
