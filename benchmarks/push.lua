-- wrk script: each request is a new receipt for a different submitted recipient.
-- Arguments: where this run's numbers start (each run takes fresh recipients), how many
-- campaigns the numbers are spread over (default 1), and the label of the prepared rows
-- (bench_callback.prepare: thread t's number n went to campaign n % campaigns, in the
-- batch with task id <label>T<t>C<n % campaigns>, phone <base> + t * 1000000 + n).
local counter = 0
local thread_id = 0
local campaigns = 1
local label = "BENCH"
local base = 13000000000

function setup(thread)
  thread:set("id", thread_id)
  thread_id = thread_id + 1
end

function init(args)
  counter = tonumber(args[1] or "0")
  campaigns = tonumber(args[2] or "1")
  label = args[3] or label
  base = tonumber(args[4] or base)
end

request = function()
  counter = counter + 1
  local phone = base + id * 1000000 + counter
  local task = label .. "T" .. id .. "C" .. (counter % campaigns)
  local body = "mobile=" .. phone .. "&taskid=" .. task .. "&status=1&code=DELIVRD&receivetime=2026-11-26+12%3A00%3A00"
  return wrk.format("POST", nil, {["Content-Type"] = "application/x-www-form-urlencoded;charset=utf-8"}, body)
end
