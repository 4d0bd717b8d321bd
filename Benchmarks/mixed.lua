-- Benchmarks/mixed.lua: the mixed load of `Benchmarks/run` (ONLY=mixed) for wrk.
--   wrk -t2 -c32 -d10s --latency -s Benchmarks/mixed.lua http://127.0.0.1:PORT -- DIR [MODE]
-- DIR is what `nylas-sim-bench http-prepare --mailbox N --out DIR` wrote (auth, grant, messages.txt,
-- threads.txt). MODE:
--   mixed  (default) 90 % reads, 10 % writes, the weights below
--   reads  the reads only, with the same relative weights
--   send   POST /messages/send only (the write path's own figure)
-- Each thread draws from its own seeded generator, so a run's sequence of requests is the same
-- every time. done() prints how many of each kind were sent and how many answers were not 2xx.

local kinds = {
  -- reads: 90
  { name = "get message",            weight = 35, write = false },
  { name = "list unread",            weight = 15, write = false },
  { name = "list from",              weight = 10, write = false },
  { name = "list threads",           weight = 15, write = false },
  { name = "get thread",             weight = 15, write = false },
  -- writes: 10
  { name = "send",                   weight = 4,  write = true },
  { name = "update message",         weight = 4,  write = true },
  { name = "create draft",           weight = 2,  write = true },
}

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_index", #threads)   -- a global of the thread's own Lua state
end

local function lines(path)
  local out = {}
  local f = assert(io.open(path, "r"), "cannot open " .. path)
  for line in f:lines() do
    if #line > 0 then table.insert(out, line) end
  end
  f:close()
  return out
end

local function read(path)
  local f = assert(io.open(path, "r"), "cannot open " .. path)
  local s = f:read("*a")
  f:close()
  return (s:gsub("%s+$", ""))
end

local auth, grant, messages, thread_ids, mode
local total = 0
local pick = {}
counts = {}
bad = 0

function init(args)
  local dir = args[1] or "/tmp/nylas-sim-bench-http"
  mode = args[2] or "mixed"
  auth = "Bearer " .. read(dir .. "/auth")
  grant = read(dir .. "/grant")
  messages = lines(dir .. "/messages.txt")
  thread_ids = lines(dir .. "/threads.txt")
  math.randomseed(1000 + (thread_index or 0))
  for _, k in ipairs(kinds) do
    local w = k.weight
    if mode == "reads" and k.write then w = 0 end
    if mode == "send" then w = (k.name == "send") and 1 or 0 end
    total = total + w
    table.insert(pick, { upto = total, kind = k.name })
    counts[k.name] = 0
  end
end

local sequence = 0

local function build(kind)
  local base = "/v3/grants/" .. grant
  local h = { ["Authorization"] = auth }
  if kind == "get message" then
    return wrk.format("GET", base .. "/messages/" .. messages[math.random(#messages)], h)
  elseif kind == "list unread" then
    return wrk.format("GET", base .. "/messages?limit=10&unread=true", h)
  elseif kind == "list from" then
    return wrk.format("GET", base .. "/messages?limit=5&from=sender" .. math.random(0, 16) .. "@example.com", h)
  elseif kind == "list threads" then
    return wrk.format("GET", base .. "/threads?limit=10", h)
  elseif kind == "get thread" then
    return wrk.format("GET", base .. "/threads/" .. thread_ids[math.random(#thread_ids)], h)
  end
  sequence = sequence + 1
  h["Content-Type"] = "application/json"
  if kind == "send" then
    return wrk.format("POST", base .. "/messages/send", h,
      '{"to":[{"name":"Reader","email":"reader' .. (sequence % 50) .. '@example.com"}],' ..
      '"subject":"Mixed load send ' .. sequence .. '","body":"<p>Sent by the mixed load.</p>"}')
  elseif kind == "update message" then
    local unread = (sequence % 2 == 0) and "true" or "false"
    return wrk.format("PUT", base .. "/messages/" .. messages[math.random(#messages)], h,
      '{"unread":' .. unread .. ',"starred":' .. ((sequence % 3 == 0) and "true" or "false") .. '}')
  else -- create draft
    return wrk.format("POST", base .. "/drafts", h,
      '{"to":[{"email":"draft' .. (sequence % 50) .. '@example.com"}],"subject":"Mixed load draft ' .. sequence ..
      '","body":"<p>A draft of the mixed load.</p>"}')
  end
end

function request()
  local r = math.random(total)
  for _, p in ipairs(pick) do
    if r <= p.upto then
      counts[p.kind] = counts[p.kind] + 1
      return build(p.kind)
    end
  end
end

function response(status, headers, body)
  if status < 200 or status > 299 then bad = bad + 1 end
end

function done(summary, latency, requests)
  local sums, not2xx = {}, 0
  for _, t in ipairs(threads) do
    local c = t:get("counts")
    for k, v in pairs(c) do sums[k] = (sums[k] or 0) + v end
    not2xx = not2xx + t:get("bad")
  end
  local line = {}
  for _, k in ipairs(kinds) do
    if (sums[k.name] or 0) > 0 then table.insert(line, k.name .. "=" .. sums[k.name]) end
  end
  io.write("mix: " .. table.concat(line, ", ") .. "\n")
  io.write(string.format("not 2xx (counted by the script): %d\n", not2xx))
  io.write(string.format("p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, max %.3f ms\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
