-- wrk script for the bench: replays a file of requests, optionally at a fixed rate, checks every response,
-- and writes the figures as JSON.
--
--   wrk -t T -c C -d D -s perf/wrk_requests.lua URL -- REQUESTS MODE RATE T EXPECT_STATUS EXPECT_TEXT OUT
--
-- REQUESTS  one request per line: METHOD <tab> PATH <tab> COOKIE <tab> BODY ("-" for none)
-- MODE      "cycle": go round the list; "once": each line at most once (quiz submissions: an attempt is sealed
--           once), thread k of T taking lines k, k+T, ...; running out is counted in "exhausted".
-- RATE      total requests per second to offer (paced per connection slot), or 0 for as fast as possible.
-- EXPECT_STATUS / EXPECT_TEXT  a response counts as good only with this status and, unless "-", this text in
--           its body or Location header (e.g. "Sign out": the session really was signed in). Anything else
--           counts in "unexpected", reported as an error next to wrk's own socket and timeout errors.
--           EXPECT_STATUS may list several codes: "200,304".
-- ETAG      optional "etag": poll like the lesson panel's script, sending the last ETag seen in If-None-Match.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local timespec = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, timespec) -- CLOCK_MONOTONIC
  return tonumber(timespec.tv_sec) * 1000 + tonumber(timespec.tv_nsec) / 1e6
end

local threads = {}
local thread_counter = 0

function setup(thread)
  thread_counter = thread_counter + 1
  thread:set("thread_index", thread_counter)
  table.insert(threads, thread)
end

local requests = {}
local raw = {}
local mode, rate, thread_total, expect_text
local expect_status = {}
local use_etag, last_etag = false, nil
local position, sent = 0, 0
local interval_ms, started_ms = 0, nil
unexpected, exhausted, good = 0, 0, 0
first_unexpected = ""

local function split(line)
  local fields = {}
  for field in (line .. "\t"):gmatch("([^\t]*)\t") do table.insert(fields, field) end
  return fields
end

function init(args)
  local path = args[1]
  mode = args[2]
  rate = tonumber(args[3])
  thread_total = tonumber(args[4])
  for code in args[5]:gmatch("%d+") do expect_status[tonumber(code)] = true end
  expect_text = args[6]
  use_etag = args[7] == "etag"
  if expect_text == "-" then expect_text = nil end
  local index = 0
  for line in io.lines(path) do
    index = index + 1
    if mode ~= "once" or (index - thread_index) % thread_total == 0 then
      local f = split(line)
      local headers = { ["Host"] = "127.0.0.1" }
      if f[3] ~= "-" then headers["Cookie"] = f[3] end
      local body = nil
      if f[4] ~= "-" then
        body = f[4]
        headers["Content-Type"] = "application/x-www-form-urlencoded"
      end
      table.insert(requests, wrk.format(f[1], f[2], headers, body))
      table.insert(raw, { method = f[1], path = f[2], headers = headers, body = body })
    end
  end
  if rate > 0 then interval_ms = 1000.0 * thread_total / rate end
end

function request()
  position = position + 1
  if position > #requests then
    if mode == "once" then exhausted = exhausted + 1 end
    position = 1
  end
  if use_etag and last_etag ~= nil then
    local r = raw[position]
    local headers = { ["If-None-Match"] = last_etag }
    for key, value in pairs(r.headers) do headers[key] = value end
    return wrk.format(r.method, r.path, headers, r.body)
  end
  return requests[position]
end

-- Pacing: connection slots are handed out on a fixed schedule (start + k * interval); a connection waits for
-- its slot. If the server falls behind, slots are already due and requests go out at once (open loop), so a
-- slow server shows up as a lower achieved rate and higher latencies, never hidden by the client.
function delay()
  if interval_ms == 0 then return 0 end
  local now = now_ms()
  if started_ms == nil then started_ms = now end
  local due = started_ms + sent * interval_ms
  sent = sent + 1
  local wait = due - now
  if wait < 0 then return 0 end
  return wait
end

function response(status, headers, body)
  if use_etag and headers["ETag"] ~= nil then last_etag = headers["ETag"] end
  local ok = expect_status[status] == true
  if ok and expect_text ~= nil then
    local location = headers["Location"] or headers["location"] or ""
    ok = string.find(location, expect_text, 1, true) ~= nil or string.find(body, expect_text, 1, true) ~= nil
  end
  if ok then
    good = good + 1
  else
    unexpected = unexpected + 1
    if first_unexpected == "" then
      first_unexpected = tostring(status) .. " " .. (headers["Location"] or "") .. " " .. string.sub(body, 1, 200)
    end
  end
end

local function json_string(text)
  return '"' .. text:gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end) .. '"'
end

function done(summary, latency, requests_stats)
  local total_unexpected, total_exhausted, total_good, sample = 0, 0, 0, ""
  for _, thread in ipairs(threads) do
    total_unexpected = total_unexpected + thread:get("unexpected")
    total_exhausted = total_exhausted + thread:get("exhausted")
    total_good = total_good + thread:get("good")
    if sample == "" then sample = thread:get("first_unexpected") end
  end
  local seconds = summary.duration / 1e6
  local e = summary.errors
  local out = io.open(os.getenv("BENCH_WRK_OUT"), "w")
  out:write(string.format(
    '{"requests": %d, "good": %d, "duration_s": %.3f, "rps": %.2f, "bytes": %d, ' ..
    '"latency_ms": {"mean": %.3f, "p50": %.3f, "p90": %.3f, "p95": %.3f, "p99": %.3f, "max": %.3f}, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d, "unexpected": %d, ' ..
    '"exhausted": %d}, "sample_unexpected": %s}\n',
    summary.requests, total_good, seconds, summary.requests / seconds, summary.bytes,
    latency.mean / 1000, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(95) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e.connect, e.read, e.write, e.status, e.timeout, total_unexpected, total_exhausted, json_string(sample)))
  out:close()
end
