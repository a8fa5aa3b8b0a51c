-- wrk script: POST the home-timeline page, rotating bearer tokens over the readers.
-- Environment: CHIRP_BENCH_TOKENS (a file, one token a line), CHIRP_BENCH_PATH
-- (default /graphql), CHIRP_BENCH_BODY (a file holding the JSON body to POST).
-- Read-heavy mix: with CHIRP_BENCH_POST_EVERY=N (N > 1) every Nth request is the
-- body in the file CHIRP_BENCH_POST_BODY instead (a createTweet mutation, "@N@" in it
-- replaced by a counter so each text differs), sent with the token whose turn it is:
-- the reader posts as themself. N = 101 makes 100 reads per post.
local tokens = {}
local body = ""
local post_body = ""
local post_every = tonumber(os.getenv("CHIRP_BENCH_POST_EVERY") or "0") or 0
local path = os.getenv("CHIRP_BENCH_PATH") or "/graphql"
local index = 0
local sent = 0
-- per thread, summed in done(): every failure, and by kind
failed = 0
reads_ok = 0
posts_sent = 0
posts_ok = 0
graphql_errors = 0 -- top-level "errors" of a read or a post (status 200)
payload_errors = 0 -- createTweet answered with errors in its payload, no tweet
http_errors = 0 -- any status other than 200

local function read_all(name)
  local handle = assert(io.open(name, "r"))
  local text = handle:read("*a")
  handle:close()
  return text
end

for line in io.lines(assert(os.getenv("CHIRP_BENCH_TOKENS"))) do
  if #line > 0 then tokens[#tokens + 1] = line end
end
body = read_all(assert(os.getenv("CHIRP_BENCH_BODY")))
if post_every > 1 then
  post_body = read_all(assert(os.getenv("CHIRP_BENCH_POST_BODY")))
end

local threads = {}
function setup(thread)
  thread:set("thread_number", #threads + 1)
  threads[#threads + 1] = thread
end

function init(args)
  index = math.random(#tokens)
end

function request()
  index = index % #tokens + 1
  sent = sent + 1
  local payload = body
  if post_every > 1 and sent % post_every == 0 then
    posts_sent = posts_sent + 1
    local mark = string.format("%d-%d-%d", thread_number or 1, posts_sent, os.time())
    payload = string.gsub(post_body, "@N@", mark)
  end
  return wrk.format("POST", path, {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. tokens[index],
  }, payload)
end

local function has(text, needle)
  return string.find(text, needle, 1, true) ~= nil
end

function response(status, headers, text)
  if status ~= 200 then
    -- counted by wrk as well (non-2xx), and here so that failures add up by kind
    http_errors = http_errors + 1
    failed = failed + 1
  elseif has(text, '"errors":[{"message"') or has(text, '"data":null') then
    graphql_errors = graphql_errors + 1 -- a GraphQL error comes back with status 200
    failed = failed + 1
  elseif has(text, '"createTweet":') then
    if has(text, '"tweet":{"id":"') and not has(text, '"errors":[{') then
      posts_ok = posts_ok + 1
    else
      payload_errors = payload_errors + 1
      failed = failed + 1
    end
  elseif has(text, '"errors"') then
    graphql_errors = graphql_errors + 1
    failed = failed + 1
  else
    reads_ok = reads_ok + 1
  end
end

function done(summary, latency, requests)
  local totals = {}
  local names = {
    "failed", "reads_ok", "posts_sent", "posts_ok", "graphql_errors", "payload_errors",
    "http_errors",
  }
  for _, name in ipairs(names) do totals[name] = 0 end
  for _, thread in ipairs(threads) do
    for _, name in ipairs(names) do
      totals[name] = totals[name] + (thread:get(name) or 0)
    end
  end
  io.write(string.format("BENCH failed_responses %d\n", totals.failed))
  for _, name in ipairs(names) do
    if name ~= "failed" then io.write(string.format("BENCH %s %d\n", name, totals[name])) end
  end
end
