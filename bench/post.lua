-- wrk script for every system: POST the JSON body of $BODY_FILE to the
-- endpoint, with `Authorization: Bearer $TOKEN` when set.
-- Templating (only when the body holds a placeholder, so that a fixed body
-- costs wrk nothing per request):
--   __ID__, __ID2__  fields 1 and 2 of a random line of $ID_FILE (tab-separated)
--   __NAME__         $RUN_ID .. "-" .. a counter: unique per request (one thread)
-- A body that starts with "?" is a GET's query string instead (a persisted
-- scenario's: the hash, no text), appended to the URL's path; placeholders in it
-- are filled URL-encoded.
-- Responses whose body holds "errors" are counted: GraphQL errors come with 200.
-- At the end one line `WRK_JSON {...}` sums it up.
local function read(path)
  local f = assert(io.open(path, "rb"))
  local text = f:read("*a")
  f:close()
  return text
end

local body = read(os.getenv("BODY_FILE"))
local templated = body:find("__ID", 1, true) ~= nil or body:find("__NAME__", 1, true) ~= nil
local ids = {}
if os.getenv("ID_FILE") and os.getenv("ID_FILE") ~= "" then
  for line in read(os.getenv("ID_FILE")):gmatch("[^\n]+") do
    local a, b = line:match("^([^\t]*)\t?(.*)$")
    ids[#ids + 1] = { a, b }
  end
end
local run_id = os.getenv("RUN_ID") or tostring(os.time())
local get = body:sub(1, 1) == "?"

local function encoded(text)
  if not get then
    return text
  end
  return (text:gsub("[^%w%-_%.~]", function(c)
    return string.format("%%%02X", c:byte())
  end))
end

wrk.headers["Accept"] = "application/json"
if os.getenv("TOKEN") and os.getenv("TOKEN") ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
end
if get then
  wrk.method = "GET"
  wrk.path = wrk.path .. body
else
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.body = body
end

local threads = {}
function setup(thread)
  threads[#threads + 1] = thread
end

function init(args)
  math.randomseed(os.time() + (tonumber(tostring({}):sub(8)) or 0))
  counter = 0
  gql_errors = 0
end

if templated then
  request = function()
    counter = counter + 1
    local b = body
    if #ids > 0 then
      local pick = ids[math.random(1, #ids)]
      -- a function as the replacement: "%" in an encoded id is not a capture
      local first, second = encoded(pick[1]), encoded(pick[2])
      b = b:gsub("__ID2__", function() return second end):gsub("__ID__", function() return first end)
    end
    local name = encoded(run_id .. "-" .. counter)
    b = b:gsub("__NAME__", function() return name end)
    if get then
      return wrk.format("GET", wrk.path:gsub("%?.*$", "") .. b)
    end
    return wrk.format(nil, nil, nil, b)
  end
end

function response(status, headers, response_body)
  if response_body:find('"errors"', 1, true) then
    gql_errors = gql_errors + 1
  end
end

function done(summary, latency, requests)
  local errors = 0
  for _, thread in ipairs(threads) do
    errors = errors + (thread:get("gql_errors") or 0)
  end
  local secs = summary.duration / 1e6
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_s":%.3f,"rps":%.2f,"p50_ms":%.3f,"p90_ms":%.3f,'
      .. '"p99_ms":%.3f,"max_ms":%.3f,"mean_ms":%.3f,"errors_connect":%d,"errors_read":%d,'
      .. '"errors_write":%d,"errors_timeout":%d,"non2xx":%d,"graphql_errors":%d,"bytes":%d}\n',
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, latency.mean / 1000,
    summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.timeout, summary.errors.status, errors, summary.bytes))
end
