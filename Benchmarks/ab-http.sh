#!/usr/bin/env bash
# A/B of two `nylas-sim` binaries under wrk: each serves the same seeded data, then `wrk -t2 -c32
# -d10s --latency` after a 2 s warm-up; the pair alternates ROUNDS times. Each line gives the
# server's CPU per request too (its user+system ticks over the timed run, from /proc), which the
# machine's load moves less than the throughput.
#   Benchmarks/ab-http.sh BEFORE_BINARY AFTER_BINARY [BENCH_BINARY]
#   LOAD=get    (default) GET of one message by ID
#   LOAD=mixed  the mixed load of `mixed.lua` (90 % reads, 10 % writes) on a mailbox of 200 messages
set -euo pipefail
BEFORE=$1 AFTER=$2
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=${3:-$ROOT/.build-release/release/nylas-sim-bench}
ROUNDS=${ROUNDS:-2}
LOAD=${LOAD:-get}
SEED=$([[ $LOAD == mixed ]] && echo mixed-bench || echo http-bench)   # as Benchmarks/run seeds each
run() {
  local name=$1 bin=$2 port=$3 dir=/tmp/ab-$1
  rm -rf "$dir"; mkdir -p "$dir"
  "$bin" serve --us-port "$port" --eu-port $((port+1)) --seed "$SEED" --log-level warning --no-rate-limits >/dev/null 2>&1 &
  local pid=$!
  for _ in $(seq 1 200); do curl -s -o /dev/null "http://127.0.0.1:$port/__sim/clock" && break; sleep 0.05; done
  local wrk_args
  if [[ $LOAD == mixed ]]; then
    "$BENCH" http-prepare --port "$port" --out "$dir" --mailbox 200 >/dev/null
    wrk_args=(-t2 -c32 --latency -s "$ROOT/Benchmarks/mixed.lua" "http://127.0.0.1:$port" -- "$dir" mixed)
  else
    "$BENCH" http-prepare --port "$port" --out "$dir" >/dev/null
    wrk_args=(-t2 -c32 --latency -H "Authorization: Bearer $(cat "$dir/auth")" "http://127.0.0.1:$port$(cat "$dir/path")")
  fi
  wrk -d2s "${wrk_args[@]}" >/dev/null 2>&1 || true
  local t0 t1 n
  t0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  wrk -d10s "${wrk_args[@]}" > "$dir/wrk.txt" 2>&1 || true
  t1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  n=$(awk '/requests in/ {print $1}' "$dir/wrk.txt")
  echo "$name: $(awk '/Requests\/sec/ {print $2}' "$dir/wrk.txt") req/s, p50 $(awk '$1=="50%" {print $2}' "$dir/wrk.txt"), p99 $(awk '$1=="99%" {print $2}' "$dir/wrk.txt"), CPU $(( (t1 - t0) * 1000000 / $(getconf CLK_TCK) / n )) us/request"
}
for _ in $(seq 1 "$ROUNDS"); do
  run before "$BEFORE" 27600
  run after "$AFTER" 27610
done
