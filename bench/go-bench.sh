#!/usr/bin/env bash
# Side-by-side benchmark of etcd-ts against real etcd 3.4 with etcd's own Go client (etcdbench,
# from ../shared/bench): throughput of put, range and txn workloads, and resident memory after
# loading 1,000,000 keys of 256 bytes. Prints a table of ratios etcd-ts/etcd.
#
# Usage: bench/go-bench.sh [ROUNDS]        (default 3 rounds per workload; medians are compared)
# Environment: ETCD_BIN (default /usr/bin/etcd), ETCDBENCH (default /tmp/etcdbench, built if
# missing), SHARED_BENCH (default ../shared/bench), MEM_KEYS (default 1000000), SKIP_MEMORY=1,
# ETCDTS_MAIN (the etcd-ts entry point, default dist/src/bin/etcd-ts.js, built if missing).
# Both servers run on this machine, one at a time under load, with fresh data directories:
# real etcd on 127.0.0.1:22379/22380, etcd-ts (node dist/src/bin/etcd-ts.js) on 32379/32380.
# Both get the same unmeasured warm-up first (bench/lib.sh warm_up; WARMUP=0 for cold figures).
set -euo pipefail
rounds=${1:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
mem_keys=${MEM_KEYS:-1000000}
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
need_tools
etcdts_main=${ETCDTS_MAIN:-$root/dist/src/bin/etcd-ts.js}
[ -f "$etcdts_main" ] || (cd "$root" && npm run build >/dev/null)

use_workdir go-bench

stop() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

ts=(node "$etcdts_main")
A=127.0.0.1:32379
B=127.0.0.1:22379

rows=()
# bench LABEL ETCDBENCH_FLAGS...: runs one workload side by side, keeps its medians.
bench() {
  local label=$1; shift
  echo "== $label: $*" >&2
  local out
  out=$("$shared/side-by-side.sh" "$A" "$B" "$rounds" -- "$@" 2>&1 | tee -a /dev/stderr | tail -1) || true
  local qa qb r
  qa=$(sed -n 's/.*median qps A \([0-9.]*\).*/\1/p' <<<"$out")
  qb=$(sed -n 's/.*B \([0-9.]*\)  ratio.*/\1/p' <<<"$out")
  r=$(sed -n 's/.*ratio A\/B \([0-9.]*\).*/\1/p' <<<"$out")
  rows+=("$(printf '%-44s %14s %14s %12s' "$label" "${qa:-n/a}" "${qb:-n/a}" "${r:-n/a}")")
}

start_single ts 32379 32380 "${ts[@]}"
ts_pid=$started_pid
start_single ref 22379 22380 "$etcd_bin"
etcd_pid=$started_pid
warm_up "$A" "$B"

bench "put, 1 client" --workload put --clients 1 --conns 1 --total 2000
bench "put, 100 clients / 10 conns" --workload put --clients 100 --conns 10 --total 20000
bench "range (linearizable), 100 clients" --workload range --clients 100 --conns 10 --total 50000
bench "range (serializable), 100 clients" --workload range-serializable --clients 100 --conns 10 --total 50000
bench "txn-put, 100 clients" --workload txn-put --clients 100 --conns 10 --total 20000

stop "$ts_pid"
stop "$etcd_pid"

mem_row=""
if [ "${SKIP_MEMORY:-}" != 1 ]; then
  # load NAME PORT PID: puts MEM_KEYS distinct 256-byte values, prints RSS in KiB afterwards.
  load() {
    local name=$1 port=$2 pid=$3
    echo "== memory: $mem_keys keys of 256 bytes into $name" >&2
    "$ETCDBENCH" --endpoints "127.0.0.1:$port" --workload put --clients 100 --conns 10 --total "$mem_keys" \
      --key-size 16 --key-space 1000000000000000 --val-size 256 --prefix /mem/ --timeout 3600s >&2 || true
    sleep 2
    echo "   keys: $(etcdctl --endpoints "127.0.0.1:$port" --command-timeout 60s get /mem/ --prefix --limit 1 -w json | sed -n 's/.*"count":\([0-9]*\).*/\1/p')" >&2
    rss_kib "$pid"
  }
  start_single ts 32379 32380 "${ts[@]}"
  ts_rss=$(load etcd-ts 32379 "$started_pid")
  stop "$started_pid"
  start_single ref 22379 22380 "$etcd_bin"
  etcd_rss=$(load etcd 22379 "$started_pid")
  stop "$started_pid"
  mem_row=$(printf '%-44s %14s %14s %12s' "RSS after $mem_keys keys x 256 B (MiB)" "$((ts_rss / 1024))" "$((etcd_rss / 1024))" \
    "$(awk -v a="$ts_rss" -v b="$etcd_rss" 'BEGIN { printf "%.2f", a / b }')")
fi

printf '\n%-44s %14s %14s %12s\n' "workload (median of $rounds rounds)" "etcd-ts qps" "etcd qps" "etcd-ts/etcd"
for row in "${rows[@]}"; do echo "$row"; done
[ -n "$mem_row" ] && echo "$mem_row"
exit 0
