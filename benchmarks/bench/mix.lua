-- wrk script: each thread sends the paths given after `--` in turn, one request each.
-- The headers of wrk's -H options (the bearer token) go with every request.
local paths = {}
local last = 0

function init(args)
  for index = 1, #args do
    paths[index] = args[index]
  end
end

function request()
  last = last % #paths + 1
  return wrk.format("GET", paths[last])
end
