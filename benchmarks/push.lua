-- wrk script: each request is a new receipt for a different submitted recipient.
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
  thread:set("id", thread_id)
  thread_id = thread_id + 1
  table.insert(threads, thread)
end

function init(args)
  -- the first argument: where this run's phones start (each run takes fresh recipients)
  counter = tonumber(args[1] or "0")
end

request = function()
  counter = counter + 1
  local phone = 13000000000 + id * 1000000 + counter
  local body = "mobile=" .. phone .. "&taskid=BENCHTASK" .. id .. "&status=1&code=DELIVRD&receivetime=2026-11-26+12%3A00%3A00"
  return wrk.format("POST", nil, {["Content-Type"] = "application/x-www-form-urlencoded;charset=utf-8"}, body)
end
