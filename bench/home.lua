-- wrk script: POST the home-timeline page, rotating bearer tokens over the readers.
-- Environment: CHIRP_BENCH_TOKENS (a file, one token a line), CHIRP_BENCH_PATH
-- (default /graphql), CHIRP_BENCH_BODY (a file holding the JSON body to POST).
local tokens = {}
local body = ""
local path = os.getenv("CHIRP_BENCH_PATH") or "/graphql"
local index = 0
local failed = 0

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

local threads = {}
function setup(thread)
  threads[#threads + 1] = thread
end

function init(args)
  index = math.random(#tokens)
end

function request()
  index = index % #tokens + 1
  return wrk.format("POST", path, {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. tokens[index],
  }, body)
end

function response(status, headers, text)
  -- a GraphQL error comes back with status 200: count it as a failure too
  if status ~= 200 or string.find(text, '"errors"', 1, true) then
    failed = failed + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + (thread:get("failed") or 0)
  end
  io.write(string.format("BENCH failed_responses %d\n", total))
end
