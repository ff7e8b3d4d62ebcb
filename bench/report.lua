-- Shared by the wrk scripts: one machine-readable line at the end of a wrk run,
--   BENCH_JSON {"requests": ..., "latency_us": {"p50": ...}, "statuses": {"303": ...}, ...}
-- (`statuses` is filled only by scripts that define response(): counting costs wrk time),
-- and the encodings their bodies need.

local report = {}

function report.urlencode(text)
  return (text:gsub("[^%w%-%._~]", function(ch) return string.format("%%%02X", ch:byte()) end))
end

local JSON_ESCAPES = {['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t"}

function report.jsonstring(text)
  return '"' .. text:gsub('[%c"\\]', function(ch)
    return JSON_ESCAPES[ch] or string.format("\\u%04x", ch:byte())
  end) .. '"'
end

function report.done(summary, latency, threads)
  local statuses = {}
  for _, thread in ipairs(threads) do
    local counts = thread:get("statuses")
    if counts then
      for status, count in pairs(counts) do
        local key = tostring(status)
        statuses[key] = (statuses[key] or 0) + count
      end
    end
  end
  local parts = {}
  for status, count in pairs(statuses) do
    parts[#parts + 1] = string.format('"%s": %d', status, count)
  end
  local errors = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"mean": %.1f, "p50": %d, "p90": %d, "p99": %d, "p999": %d, "max": %d}, ' ..
    '"statuses": {%s}}\n',
    summary.requests, summary.duration, summary.bytes,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, table.concat(parts, ", ")))
end

return report
