-- wrk script: client-credentials token requests (POST, form body), every response checked.
-- The body and client match benches/python/common.py. done() prints one line the harness parses:
--   CHECK total=<responses seen> bad=<responses that were not a 200 with a Bearer access token>
wrk.method = "POST"
wrk.path = "/token"
wrk.body = "grant_type=client_credentials&client_id=bench-client&client_secret=bench-secret-0123456789"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  total = 0
  bad = 0
end

function response(status, headers, body)
  total = total + 1
  if status ~= 200
      or not string.find(body, '"access_token"%s*:%s*"[^"]+"')
      or not string.find(string.lower(body), '"token_type"%s*:%s*"bearer"') then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local total_all, bad_all = 0, 0
  for _, thread in ipairs(threads) do
    total_all = total_all + thread:get("total")
    bad_all = bad_all + thread:get("bad")
  end
  io.write(string.format("CHECK total=%d bad=%d\n", total_all, bad_all))
end
