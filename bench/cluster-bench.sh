#!/usr/bin/env bash
# Throughput and latency of a 3-member etcd-ts cluster against a 3-member real etcd 3.4 cluster on
# this machine, with etcd's own Go client (etcdbench, ../shared/bench): put with 1 and 100 clients,
# linearizable range with 100 clients. Runs alternate etcd-ts / etcd, ROUNDS times each, and the
# table shows medians and the ratios etcd-ts/etcd (above 1 is faster for qps, slower for latency).
# When etcd-ts cannot form a 3-member cluster within 15 s, only etcd's figures are printed.
# Usage: bench/cluster-bench.sh [ROUNDS]   (after npm run build; ETCDBENCH=/tmp/etcdbench)
# Then: node dist/bench/cluster-failover.js  (time from kill -9 of the leader to the first write).
set -uo pipefail
rounds=${1:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
bin=${ETCDBENCH:-/tmp/etcdbench}
etcd=${E2E_ETCD_BIN:-/usr/bin/etcd}
[ -x "$bin" ] || { echo "no $bin: run /work/shared/bench/build.sh first" >&2; exit 2; }
work=$(mktemp -d /tmp/cluster-bench.XXXXXX)
# Members are started in command substitutions (subshells), so their pids go through a file.
cleanup() { [ -f "$work/pids" ] && while read -r p; do kill -9 "$p" 2>/dev/null; done <"$work/pids"; rm -rf "$work"; }
trap cleanup EXIT


# start_cluster KIND: three members on free ports; prints their client endpoints.
start_cluster() {
  local kind=$1 ic="" eps="" i
  local ports=($(free_ports 6))
  for i in 0 1 2; do ic+="${ic:+,}$kind$i=http://127.0.0.1:${ports[2 * i + 1]}"; done
  for i in 0 1 2; do
    local c=${ports[2 * i]} p=${ports[2 * i + 1]}
    local args=(--name "$kind$i" --data-dir "$work/$kind$i" --listen-client-urls "http://127.0.0.1:$c"
      --advertise-client-urls "http://127.0.0.1:$c" --listen-peer-urls "http://127.0.0.1:$p"
      --initial-advertise-peer-urls "http://127.0.0.1:$p" --initial-cluster "$ic"
      --initial-cluster-token "bench-$kind" --initial-cluster-state new)
    if [ "$kind" = etcd ]; then "$etcd" "${args[@]}" >"$work/$kind$i.log" 2>&1 &
    else node "$root/dist/src/bin/etcd-ts.js" "${args[@]}" >"$work/$kind$i.log" 2>&1 &
    fi
    echo $! >>"$work/pids"
    eps+="${eps:+,}127.0.0.1:$c"
  done
  echo "$eps"
}

# healthy ENDPOINTS: every member answers /health true within 15 s and a write succeeds.
healthy() {
  local deadline=$((SECONDS + 15)) ep
  for ep in ${1//,/ }; do
    until curl -fs "http://$ep/health" 2>/dev/null | grep -q '"true"'; do
      [ $SECONDS -ge $deadline ] && return 1
      sleep 0.2
    done
  done
  ETCDCTL_API=3 etcdctl --endpoints "$1" --command-timeout=5s put bench-probe v >/dev/null 2>&1
}

ref=$(start_cluster etcd)
healthy "$ref" || { echo "real etcd cluster did not start (logs in $work)" >&2; exit 1; }
ts=$(start_cluster etcd-ts)
if healthy "$ts" && [ "$(ETCDCTL_API=3 etcdctl --endpoints "$ts" member list 2>/dev/null | wc -l)" = 3 ]; then have_ts=1
else have_ts=0; echo "etcd-ts: no 3-member cluster within 15 s; measuring real etcd only" >&2; fi

export ETCDBENCH=$bin
# The same unmeasured warm-up for both clusters (bench/lib.sh; WARMUP=0 for cold figures).
if [ $have_ts = 1 ]; then warm_up "$ts" "$ref"; else warm_up "$ref"; fi

run() { "$bin" --endpoints "$1" --prefix "/b$RANDOM/" "${@:2}" 2>/dev/null || echo '{}'; }
results="$work/results.jsonl"
bench() {
  local label=$1; shift
  for ((r = 1; r <= rounds; r++)); do
    [ $have_ts = 1 ] && echo "{\"label\":\"$label\",\"kind\":\"etcd-ts\",\"run\":$(run "$ts" "$@")}" >>"$results"
    echo "{\"label\":\"$label\",\"kind\":\"etcd\",\"run\":$(run "$ref" "$@")}" >>"$results"
  done
}
bench "put, 1 client" --workload put --clients 1 --conns 1 --total 1000
bench "put, 100 clients" --workload put --clients 100 --conns 10 --total 20000
bench "range (linearizable), 100 clients" --workload range --clients 100 --conns 10 --total 20000

cp "$results" /tmp/cluster-bench-results.jsonl
python3 - "$results" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
labels = list(dict.fromkeys(r["label"] for r in rows))
def med(label, kind, field):
    v = [r["run"].get(field) for r in rows if r["label"] == label and r["kind"] == kind and r["run"].get(field) is not None]
    return statistics.median(v) if v else None
def fmt(x, d=0):
    return "n/a" if x is None else f"{x:.{d}f}"
print(f"{'workload (3 members)':36} {'metric':8} {'etcd-ts':>10} {'etcd':>10} {'ts/etcd':>8}")
for label in labels:
    for field, name, d in (("qps", "qps", 0), ("p50_ms", "p50 ms", 2), ("p99_ms", "p99 ms", 2)):
        a, b = med(label, "etcd-ts", field), med(label, "etcd", field)
        ratio = f"{a / b:.2f}" if a is not None and b else "n/a"
        print(f"{label:36} {name:8} {fmt(a, d):>10} {fmt(b, d):>10} {ratio:>8}")
PY
