-- POSTs an answer through the JSON API with a bearer token (TOKEN and QUESTION from the environment).
local token = os.getenv("TOKEN")
local question = os.getenv("QUESTION")
local n = 0
request = function()
  n = n + 1
  local body = string.format('{"body":"Benchmark answer number %d: restart the router, then hold reset for ten seconds."}', n)
  return wrk.format("POST", "/api/v1/questions/" .. question .. "/answers",
    { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token }, body)
end
dofile(os.getenv("REPORT_LUA"))
