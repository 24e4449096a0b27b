#!/usr/bin/env bash
# Side-by-side reference for benchmarks/promql_bench.cpp: the same 10k counters
# (x_total{job, instance}, 15 s samples, slope 1 + i % 13) loaded into Prometheus (promtool
# backfill) and VictoriaMetrics (text import), then `sum by (job) (rate(x_total[5m]))` as a 1 h
# range query at 15 s and 60 s steps. Prints CPU seconds and wall seconds per query (5 runs,
# HTTP included). Compare with bench_promql's BM_SumRateStored / BM_SumRate/1/15 CPU time.
#
#   benchmarks/promql_side_by_side.sh [workdir]      (needs prometheus, promtool,
#                                                      victoria-metrics, curl, python3)
set -euo pipefail

WORK=${1:-$(mktemp -d /tmp/promql-sbs.XXXXXX)}
mkdir -p "$WORK"
cd "$WORK"
PROM_PORT=$((20000 + RANDOM % 20000))
VM_PORT=$((PROM_PORT + 1))
START=$(( ($(date +%s) - 3 * 3600) / 900 * 900 ))

python3 - "$START" > data.om <<'EOF'
import sys
start = int(sys.argv[1])
out = sys.stdout
out.write("# TYPE x counter\n")
buf = []
for i in range(10000):
    lbl = 'x_total{job="job-%d",instance="10.0.%d.%d"}' % (i % 10, i // 250, i % 250)
    slope = 1 + (i % 13)
    for k in range(75 * 4 + 1):
        buf.append("%s %d %d\n" % (lbl, k * slope, start + k * 15))
    if len(buf) > 200000:
        out.write("".join(buf))
        buf = []
out.write("".join(buf))
out.write("# EOF\n")
EOF

promtool tsdb create-blocks-from openmetrics data.om promdata > /dev/null
printf 'global:\n  scrape_interval: 1h\n' > prom.yml
prometheus --config.file=prom.yml --storage.tsdb.path=promdata \
  --web.listen-address=127.0.0.1:$PROM_PORT --storage.tsdb.retention.time=3650d \
  > prom.log 2>&1 &
PROM_PID=$!
victoria-metrics -storageDataPath=vmdata -httpListenAddr=127.0.0.1:$VM_PORT \
  -retentionPeriod=10y -search.latencyOffset=0s > vm.log 2>&1 &
VM_PID=$!
trap 'kill $PROM_PID $VM_PID 2>/dev/null || true' EXIT

for _ in $(seq 60); do
  curl -sf 127.0.0.1:$PROM_PORT/-/ready > /dev/null && curl -sf 127.0.0.1:$VM_PORT/health > /dev/null && break
  sleep 1
done
sed -e '/^#/d' -e 's/ \([0-9]*\)$/ \1000/' data.om |
  curl -sf -X POST --data-binary @- 127.0.0.1:$VM_PORT/api/v1/import/prometheus
curl -sf 127.0.0.1:$VM_PORT/internal/force_flush > /dev/null
sleep 3

cpu() { awk '{print $14 + $15}' /proc/$1/stat; }
run() {  # name pid port step
  local q='sum by (job) (rate(x_total[5m]))' s=$((START + 600)) e=$((START + 4200))
  local c0 c1 t0 t1
  c0=$(cpu "$2"); t0=$(date +%s.%N)
  for _ in 1 2 3 4 5; do
    curl -sf -o /dev/null --data-urlencode "query=$q" --data-urlencode "start=$s" \
      --data-urlencode "end=$e" --data-urlencode "step=$4" --data-urlencode "nocache=1" \
      127.0.0.1:$3/api/v1/query_range
  done
  t1=$(date +%s.%N); c1=$(cpu "$2")
  echo "$1 1h step=$4s: cpu/query=$(echo "($c1 - $c0) / 5 / 100" | bc -l | cut -c1-6)s" \
       "wall/query=$(echo "($t1 - $t0) / 5" | bc -l | cut -c1-6)s"
}
run prometheus $PROM_PID $PROM_PORT 15
run prometheus $PROM_PID $PROM_PORT 60
run victoria-metrics $VM_PID $VM_PORT 15
run victoria-metrics $VM_PID $VM_PORT 60
