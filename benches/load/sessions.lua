-- wrk script: POST /v1/playback-sessions as many accounts (acct-1 .. acct-N, N from the
-- environment variable ACCOUNTS), each connection starting at a different account, with the
-- API key in API_KEY and the asset in ASSET. Prints a JSON summary at the end, with the
-- number of answers that were not 201, for control_bench.py.
local counter = 0
local not_created = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  accounts = tonumber(os.getenv("ACCOUNTS"))
  key = os.getenv("API_KEY")
  asset = os.getenv("ASSET")
  next_account = (id * 7919) % accounts
  bad = 0
end

function request()
  next_account = next_account % accounts + 1
  local body = string.format('{"account":"acct-%d","device":"bench","asset":"%s"}', next_account, asset)
  return wrk.format("POST", "/v1/playback-sessions",
    { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. key }, body)
end

function response(status, headers, body)
  if status ~= 201 then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"errors": %d, "status_errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    errors.connect + errors.read + errors.write + errors.timeout, errors.status))
end
