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

-- A real letter: Chinese, several lines, a mobile number and an email address (so that the
-- receipt mail is rendered and queued in the outbox, as for most writers).
local fields = {
  {"csrf_token", csrf},
  {"form_stamp", os.getenv("BENCH_FORM_STAMP") or ""},
  {"title", "关于老旧小区加装电梯补贴政策的咨询"},
  {"body", "您好！我是本市幸福街道某某小区的居民。小区建成于1995年，共六层，没有电梯，" ..
    "楼里七十岁以上的老人有二十多位，上下楼很不方便。\r\n" ..
    "想请教三个问题：\r\n" ..
    "一、老旧小区加装电梯目前有哪些补贴政策，每部电梯的补贴标准是多少？\r\n" ..
    "二、申请需要准备哪些材料，应当向哪个部门提交，大约需要多长时间？\r\n" ..
    "三、需要本单元多大比例的业主同意才能办理？一楼住户不同意时如何协调？\r\n" ..
    "盼复，谢谢！"},
  {"name", "李明"},
  {"phone", "138 1234 5678"},
  {"email", "liming@example.com"},
  {"address", "某某市某某区幸福路88号3栋2单元"},
  {"publish_consent", "1"},
  {"website", ""},  -- the honeypot, left empty as by a person
}
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
