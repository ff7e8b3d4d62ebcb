-- wrk script: every request is a valid letter posted through the web form.
--   BENCH_CSRF=<token> wrk -t2 -c64 -d20s --latency -s bench/submit.lua \
--       http://127.0.0.1:8000/write/consult
-- BENCH_CSRF is a token from the form's hidden `csrf_token` field; it is sent both as the
-- field and as the `mb_csrf` cookie, as a browser does. The same bytes go to the ceiling
-- (bench/ceiling.py), which parses the form and ignores the token.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local report = dofile(here .. "report.lua")
local enc = report.urlencode

local csrf = os.getenv("BENCH_CSRF") or error("set BENCH_CSRF to a token from GET /write/...")

-- The letter of letter.lua, with the form's own fields around it.
local fields = {
  {"csrf_token", csrf},
  {"form_stamp", os.getenv("BENCH_FORM_STAMP") or ""},
}
for _, field in ipairs(dofile(here .. "letter.lua")) do
  fields[#fields + 1] = field
end
fields[#fields + 1] = {"publish_consent", "1"}
fields[#fields + 1] = {"website", ""}  -- the honeypot, left empty as by a person

local parts = {}
for i, field in ipairs(fields) do
  parts[i] = enc(field[1]) .. "=" .. enc(field[2])
end

wrk.method = "POST"
wrk.body = table.concat(parts, "&")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = "mb_csrf=" .. csrf
wrk.headers["Accept-Language"] = "zh-CN,zh;q=0.9,en;q=0.5"

local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
end

function done(summary, latency, requests)
  report.done(summary, latency, threads)
end
