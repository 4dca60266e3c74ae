-- A wrk script for an outside check of the copy endpoint: every request copies the demo's shop
-- app (app 1, 3 components) into one of the 64 apps 1000–1063 of the team o19p6wen, round robin,
-- as `cargo xtask bench` does. Run it against a server whose database holds the benchmark's
-- fixture (`target/bench/bench-fixture.yaml`, written by `cargo xtask bench`):
--
--   rainbond-server seed --database copy-check.db target/bench/bench-fixture.yaml
--   rainbond-server serve --database copy-check.db --listen 127.0.0.1:18080 --no-metrics &
--   wrk -t2 -c8 -d6s -s crates/bench/wrk/copy.lua http://127.0.0.1:18080
--
-- It prints copies/s, p50 and p99, and the errors (any answer but 2xx counts as one).
local sent = 0

request = function()
  sent = sent + 1
  local target = 1000 + (sent % 64)
  local body = '{"services":[],"target_team_name":"o19p6wen","target_region_name":"rainbond",'
    .. '"target_app_id":' .. target .. '}'
  return wrk.format("POST", "/openapi/v1/teams/o19p6wen/regions/rainbond/apps/1/copy",
    { ["Authorization"] = "rbd-demo-admin", ["Content-Type"] = "application/json" }, body)
end

done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout + summary.errors.status
  io.write(string.format("copies/s %.0f  p50 %.2f ms  p99 %.2f ms  errors %d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, errors))
end
