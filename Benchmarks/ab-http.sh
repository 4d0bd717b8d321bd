#!/usr/bin/env bash
# A/B of two `nylas-sim` binaries on the wrk GET figure: each serves the same seeded message, then
# `wrk -t2 -c32 -d10s --latency` after a 2 s warm-up; the pair alternates ROUNDS times. Each line
# gives the server's CPU per request too (its user+system ticks over the timed run, from /proc),
# which the machine's load moves less than the throughput.
#   Benchmarks/ab-http.sh BEFORE_BINARY AFTER_BINARY [BENCH_BINARY]
set -euo pipefail
BEFORE=$1 AFTER=$2
BENCH=${3:-$(dirname "$0")/../.build-release/release/nylas-sim-bench}
ROUNDS=${ROUNDS:-2}
run() {
  local name=$1 bin=$2 port=$3
  "$bin" serve --us-port "$port" --eu-port $((port+1)) --seed http-bench --log-level warning --no-rate-limits >/dev/null 2>&1 &
  local pid=$!
  for _ in $(seq 1 200); do curl -s -o /dev/null "http://127.0.0.1:$port/__sim/clock" && break; sleep 0.05; done
  "$BENCH" http-prepare --port "$port" --out "/tmp/ab-$name" >/dev/null
  local p k
  p=$(cat "/tmp/ab-$name/path"); k=$(cat "/tmp/ab-$name/auth")
  wrk -t2 -c32 -d2s -H "Authorization: Bearer $k" "http://127.0.0.1:$port$p" >/dev/null
  local t0 t1 n
  t0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  wrk -t2 -c32 -d10s --latency -H "Authorization: Bearer $k" "http://127.0.0.1:$port$p" > "/tmp/ab-$name.txt"
  t1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  n=$(awk '/requests in/ {print $1}' "/tmp/ab-$name.txt")
  echo "$name: $(awk '/Requests\/sec/ {print $2}' "/tmp/ab-$name.txt") req/s, p50 $(awk '$1=="50%" {print $2}' "/tmp/ab-$name.txt"), p99 $(awk '$1=="99%" {print $2}' "/tmp/ab-$name.txt"), CPU $(( (t1 - t0) * 1000000 / $(getconf CLK_TCK) / n )) us/request"
}
for _ in $(seq 1 "$ROUNDS"); do
  run before "$BEFORE" 27600
  run after "$AFTER" 27610
done
