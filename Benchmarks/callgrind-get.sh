#!/usr/bin/env bash
# Instructions per GET /v3/grants/{id}/messages/{id} of a release `serve`, under callgrind: 50 warm-up
# GETs, counters zeroed, N (300) keep-alive GETs, a dump; the count is the dump divided by N.
#   Benchmarks/callgrind-get.sh [NYLAS_SIM_BINARY] [BENCH_BINARY]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SIM=${1:-$ROOT/.build-release/release/nylas-sim}
BENCH=${2:-$ROOT/.build-release/release/nylas-sim-bench}
N=${N:-300}
OUT=/tmp/cg; mkdir -p $OUT; rm -f $OUT/cg.out*
objcopy --strip-debug "$SIM" $OUT/sim-nodebug
valgrind --tool=callgrind --demangle=no --callgrind-out-file=$OUT/cg.out \
  $OUT/sim-nodebug serve --us-port 27690 --eu-port 27691 --seed cg --log-level warning --no-rate-limits > $OUT/serve.log 2>&1 &
PID=$!
for _ in $(seq 1 600); do curl -s -o /dev/null http://127.0.0.1:27690/__sim/clock && break; sleep 0.1; done
"$BENCH" http-prepare --port 27690 --out $OUT/prep >/dev/null
P=$(cat $OUT/prep/path); K=$(cat $OUT/prep/auth)
python3 - "$P" "$K" 50 <<'PY'
import http.client,sys
c=http.client.HTTPConnection("127.0.0.1",27690)
for _ in range(int(sys.argv[3])):
    c.request("GET",sys.argv[1],headers={"Authorization":"Bearer "+sys.argv[2]}); r=c.getresponse(); r.read(); assert r.status==200
PY
callgrind_control -z $PID >/dev/null
python3 - "$P" "$K" $N <<'PY'
import http.client,sys
c=http.client.HTTPConnection("127.0.0.1",27690)
for _ in range(int(sys.argv[3])):
    c.request("GET",sys.argv[1],headers={"Authorization":"Bearer "+sys.argv[2]}); r=c.getresponse(); r.read(); assert r.status==200
PY
callgrind_control -d $PID >/dev/null
kill -INT $PID; wait $PID || true
F=$(ls -t $OUT/cg.out.* | head -1)
TOTAL=$(callgrind_annotate "$F" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",","",$1); print $1}')
echo "instructions per GET: $((TOTAL / N)) (total $TOTAL over $N)"
echo "$F"
