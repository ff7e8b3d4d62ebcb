-- wrk script: every request is a valid letter posted to the JSON API with a submit token.
--   BENCH_TOKEN=mbx_... wrk -t2 -c64 -d10s --latency -s bench/api-submit.lua \
--       http://127.0.0.1:8000/api/v1/letters
-- The letter of letter.lua (the web form's, see submit.lua), as the API takes it. Statuses
-- are counted: bench/api.py checks that every 201 left a letter in the database.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local report = dofile(here .. "report.lua")
local token = os.getenv("BENCH_TOKEN") or error("set BENCH_TOKEN to a submit token")

local members = {report.jsonstring("channel") .. ":" .. report.jsonstring("consult")}
for _, field in ipairs(dofile(here .. "letter.lua")) do
  members[#members + 1] = report.jsonstring(field[1]) .. ":" .. report.jsonstring(field[2])
end
members[#members + 1] = '"publish_consent":true'

wrk.method = "POST"
wrk.body = "{" .. table.concat(members, ",") .. "}"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token
wrk.headers["Accept-Language"] = "zh-CN,zh;q=0.9,en;q=0.5"

local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
end

statuses = {}

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  report.done(summary, latency, threads)
end
