#!/usr/bin/env bash
# Watch and lease side by side: etcd-ts against real etcd 3.4, one member each, with etcd's Go
# client (etcdbench from ../shared/bench) and bench/watch-fanout.ts:
#   - watch latency from put to event (p50, p99) with 10 and with 1,000 watchers (etcdbench
#     watch-latency: each client puts its own key and waits for its watch event);
#   - fan-out of one put to 10,000 watchers of one key: time until the last one has the event;
#   - lease keep-alive throughput (etcdbench lease-keepalive: KeepAliveOnce, 100 clients).
# Prints each run's JSON, then a table with ratios etcd-ts/etcd (latency: lower is better, target
# <= 1.5; throughput: higher is better, target >= 0.6).
#
# Usage: bench/watch-lease-bench.sh [ROUNDS]   (default 3 runs of each measure, alternating; medians)
# Environment: ETCD_BIN (default /usr/bin/etcd), ETCDBENCH (default /tmp/etcdbench, built if
# missing), SHARED_BENCH (default ../shared/bench), ETCDTS_MAIN (default
# dist/src/bin/etcd-ts.js, built if missing), FANOUT_WATCHERS (default 10000).
# Servers: real etcd on 127.0.0.1:22379/22380, etcd-ts on 32379/32380, fresh data directories,
# the same unmeasured warm-up for both (bench/lib.sh warm_up; WARMUP=0 for cold figures).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
fanout_watchers=${FANOUT_WATCHERS:-10000}
rounds=${1:-3}
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
need_tools
etcdts_main=${ETCDTS_MAIN:-$root/dist/src/bin/etcd-ts.js}
fanout=$root/dist/bench/watch-fanout.js
[ -f "$etcdts_main" ] && [ -f "$fanout" ] || (cd "$root" && npm run build >/dev/null)

use_workdir watch-lease-bench

A=127.0.0.1:32379
B=127.0.0.1:22379
start_single ts 32379 32380 node "$etcdts_main"
start_single ref 22379 22380 "$etcd_bin"
warm_up "$A" "$B"

# field NAME RUNS: the median of NAME over the JSON lines in RUNS.
field() {
  sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p" <<<"$2" | sort -g |
    awk '{ a[NR] = $1 } END { if (NR) print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "n/a"; else printf "%.2f", a / b }'; }
rows=()
row() { rows+=("$(printf '%-46s %12s %12s %12s %8s' "$1" "${2:-n/a}" "${3:-n/a}" "$(ratio "$2" "$3")" "$4")"); }

# go LABEL FLAGS...: ROUNDS etcdbench runs against each server, alternating (etcd-ts first); sets
# oa and ob to their JSON lines.
go() {
  local label=$1 r a b; shift
  echo "== $label: $*" >&2
  oa=""; ob=""
  for ((r = 1; r <= rounds; r++)); do
    a=$("$ETCDBENCH" --endpoints "$A" --prefix "/wl-a$r/" "$@" 2>&1 | tail -1) || true
    b=$("$ETCDBENCH" --endpoints "$B" --prefix "/wl-b$r/" "$@" 2>&1 | tail -1) || true
    echo "etcd-ts $a" >&2
    echo "etcd    $b" >&2
    oa+="$a"$'\n'; ob+="$b"$'\n'
  done
}

go "watch latency, 10 watchers" --workload watch-latency --clients 10 --conns 10 --total 5000
row "watch put->event p50 ms, 10 watchers" "$(field p50_ms "$oa")" "$(field p50_ms "$ob")" "<= 1.5"
row "watch put->event p99 ms, 10 watchers" "$(field p99_ms "$oa")" "$(field p99_ms "$ob")" "<= 1.5"
go "watch latency, 1000 watchers" --workload watch-latency --clients 1000 --conns 10 --total 20000
row "watch put->event p50 ms, 1000 watchers" "$(field p50_ms "$oa")" "$(field p50_ms "$ob")" "<= 1.5"
row "watch put->event p99 ms, 1000 watchers" "$(field p99_ms "$oa")" "$(field p99_ms "$ob")" "<= 1.5"

echo "== fan-out: one put to $fanout_watchers watchers" >&2
fa=""; fb=""
for ((r = 1; r <= rounds; r++)); do
  x=$(node "$fanout" --endpoint "$A" --watchers "$fanout_watchers" 2>&1 | tail -1) || true
  y=$(node "$fanout" --endpoint "$B" --watchers "$fanout_watchers" 2>&1 | tail -1) || true
  echo "etcd-ts $x" >&2
  echo "etcd    $y" >&2
  fa+="$x"$'\n'; fb+="$y"$'\n'
done
row "fan-out to $fanout_watchers watchers, median ms" "$(field median_ms "$fa")" "$(field median_ms "$fb")" "<= 1.5"

go "lease keep-alive" --workload lease-keepalive --clients 100 --conns 10 --total 20000
qps() { field qps "$1" | awk '{ printf "%.0f", $1 }'; }
row "lease keep-alive (KeepAliveOnce) qps" "$(qps "$oa")" "$(qps "$ob")" ">= 0.6"

printf '\n%-46s %12s %12s %12s %8s\n' "measure (median of $rounds runs)" "etcd-ts" "etcd" "etcd-ts/etcd" "target"
for r in "${rows[@]}"; do echo "$r"; done
exit 0
