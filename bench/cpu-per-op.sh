#!/usr/bin/env bash
# CPU time the servers spend per operation, etcd-ts against real etcd 3.4, for N-member clusters
# on this machine. Throughput on a shared 2-core machine swings with whatever else runs; the CPU
# seconds a server burns per request (user + system, from /proc/PID/stat, summed over every member,
# the client excluded) move far less, so they show where an implementation stands even when the
# machine is busy. Also prints qps and p50 of the same run, for context.
#
# Usage: bench/cpu-per-op.sh [MEMBERS] [WORKLOAD] [CLIENTS] [TOTAL]   (defaults: 3 put 100 10000)
# Environment: ETCDBENCH (default /tmp/etcdbench), E2E_ETCD_BIN (default /usr/bin/etcd).
# Each server gets the same unmeasured warm-up (bench/lib.sh warm_up; WARMUP=0 for cold figures).
# Run after npm run build. One line per server kind, then the ratio etcd-ts/etcd of CPU per op.
set -uo pipefail
members=${1:-3}
workload=${2:-put}
clients=${3:-100}
total=${4:-10000}
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
bench=${ETCDBENCH:-/tmp/etcdbench}
etcd=${E2E_ETCD_BIN:-/usr/bin/etcd}
[ -x "$bench" ] || { echo "no $bench: run ../shared/bench/build.sh first" >&2; exit 2; }
work=$(mktemp -d /tmp/cpu-per-op.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT


# cpu_ticks PID...: user + system clock ticks of the processes.
cpu_ticks() {
  local sum=0 p
  for p in "$@"; do sum=$((sum + $(awk '{ print $14 + $15 }' "/proc/$p/stat"))); done
  echo "$sum"
}

# run KIND: starts a cluster of that kind, loads it through its leader, prints one line.
run() {
  local kind=$1 ports i cluster="" endpoints="" leader
  read -r -a ports <<<"$(free_ports $((2 * members)))"
  for ((i = 0; i < members; i++)); do
    cluster+="${cluster:+,}m$i=http://127.0.0.1:${ports[$((2 * i + 1))]}"
    endpoints+="${endpoints:+,}127.0.0.1:${ports[$((2 * i))]}"
  done
  local cmd kind_pids=()
  for ((i = 0; i < members; i++)); do
    if [ "$kind" = etcd-ts ]; then cmd=(node "$root/dist/src/bin/etcd-ts.js"); else cmd=("$etcd"); fi
    "${cmd[@]}" --name "m$i" --data-dir "$work/$kind-m$i" \
      --listen-client-urls "http://127.0.0.1:${ports[$((2 * i))]}" --advertise-client-urls "http://127.0.0.1:${ports[$((2 * i))]}" \
      --listen-peer-urls "http://127.0.0.1:${ports[$((2 * i + 1))]}" --initial-advertise-peer-urls "http://127.0.0.1:${ports[$((2 * i + 1))]}" \
      --initial-cluster "$cluster" --initial-cluster-state new >"$work/$kind-m$i.log" 2>&1 &
    kind_pids+=($!)
    pids+=($!)
  done
  leader=""
  for _ in $(seq 1 60); do
    leader=$(ETCDCTL_API=3 etcdctl --endpoints "$endpoints" --command-timeout 2s endpoint status -w json 2>/dev/null | python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
    print(next(e["Endpoint"] for e in d if e["Status"].get("leader") == e["Status"]["header"]["member_id"]))
except Exception:
    pass')
    [ -n "$leader" ] && ETCDCTL_API=3 etcdctl --endpoints "$leader" --command-timeout 2s put /cpu-per-op-ready x >/dev/null 2>&1 && break
    leader=""
    sleep 0.5
  done
  [ -n "$leader" ] || { echo "$kind: no leader within 30 s" >&2; return 1; }
  ETCDBENCH=$bench warm_up "$leader"
  local before after out conns=$((clients < 10 ? clients : 10))
  before=$(cpu_ticks "${kind_pids[@]}")
  out=$("$bench" --endpoints "$leader" --workload "$workload" --clients "$clients" --conns "$conns" --total "$total")
  after=$(cpu_ticks "${kind_pids[@]}")
  python3 - "$kind" "$out" "$before" "$after" "$(getconf CLK_TCK)" "$total" <<'EOF'
import json, sys
kind, out, before, after, hz, total = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
cpu = (after - before) * 1000 / hz / total
print(f"{kind:8} qps {out['qps']:8.0f}  p50 {out['p50_ms']:7.2f} ms  errors {out['errors']}  cpu {cpu:.3f} ms/op")
EOF
  kill "${kind_pids[@]}" 2>/dev/null
  wait "${kind_pids[@]}" 2>/dev/null
  return 0
}

echo "$members member(s), $workload, $clients clients, $total ops; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
run etcd-ts >"$work/a" || exit 1
run etcd >"$work/b" || exit 1
a=$(cat "$work/a")
b=$(cat "$work/b")
echo "$a"
echo "$b"
python3 -c '
import re, sys
a, b = (float(re.search(r"cpu ([0-9.]+)", s).group(1)) for s in sys.argv[1:3])
print(f"cpu per op etcd-ts/etcd {a / b:.2f}")' "$a" "$b"
