# Shared by the bench scripts (sourced, not run): free ports, the tools they need, and a one-member
# server started on given ports, the warm-up. The sourcing script sets `root` (the project) and
# `work` (its temporary folder: use_workdir makes one), and keeps the started pids in the array
# `pids` for the cleanup.

# use_workdir NAME: a fresh temporary folder in `work` and an empty `pids`; on exit every started
# pid is killed and waited for, and the folder removed.
use_workdir() {
  work=$(mktemp -d "/tmp/$1.XXXXXX")
  pids=()
  trap cleanup_workdir EXIT
}

cleanup_workdir() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}

# free_ports N: N ports the kernel just handed out on 127.0.0.1 (fixed ports would collide with
# another run, and silently measure its servers).
free_ports() {
  python3 -c 'import socket,sys
ss=[socket.socket() for _ in range(int(sys.argv[1]))]
for s in ss: s.bind(("127.0.0.1",0))
print(" ".join(str(s.getsockname()[1]) for s in ss))' "$1"
}

# need_tools: etcdbench (built from ../shared/bench when missing), real etcd and etcdctl; sets
# shared, etcd_bin and ETCDBENCH from the environment or their defaults.
need_tools() {
  shared=${SHARED_BENCH:-$root/../shared/bench}
  etcd_bin=${ETCD_BIN:-/usr/bin/etcd}
  export ETCDBENCH=${ETCDBENCH:-/tmp/etcdbench}
  export ETCDCTL_API=3
  [ -x "$ETCDBENCH" ] || "$shared/build.sh" "$ETCDBENCH"
  [ -x "$etcd_bin" ] || { echo "no $etcd_bin: apt-get install etcd-server" >&2; exit 2; }
  command -v etcdctl >/dev/null || { echo "no etcdctl: apt-get install etcd-client" >&2; exit 2; }
}

# start_single NAME CLIENT_PORT PEER_PORT COMMAND...: a fresh one-member cluster in $work/NAME,
# ready once a put through etcdctl succeeds; sets started_pid.
start_single() {
  local name=$1 cport=$2 pport=$3; shift 3
  rm -rf "${work:?}/$name"
  "$@" --name "$name" --data-dir "$work/$name" \
    --listen-client-urls "http://127.0.0.1:$cport" --advertise-client-urls "http://127.0.0.1:$cport" \
    --listen-peer-urls "http://127.0.0.1:$pport" --initial-advertise-peer-urls "http://127.0.0.1:$pport" \
    --initial-cluster "$name=http://127.0.0.1:$pport" >"$work/$name.log" 2>&1 &
  started_pid=$!
  pids+=("$started_pid")
  for _ in $(seq 1 100); do
    if etcdctl --endpoints "127.0.0.1:$cport" --dial-timeout 1s --command-timeout 2s put /bench-ready x >/dev/null 2>&1; then
      return 0
    fi
    kill -0 "$started_pid" 2>/dev/null || break
    sleep 0.2
  done
  echo "$name did not become ready; its log:" >&2
  tail -20 "$work/$name.log" >&2
  return 1
}

# warm_up ENDPOINTS...: the same unmeasured load on every server before measuring: 6,000 puts
# from one client, then 20,000 from 50 clients. V8 compiles a function to optimized code only
# after it has run many times, so a fresh etcd-ts answers its first few thousand requests slower
# than it will for the rest of its life (put with 1 client: ~550/s cold, ~950/s warm); a Go
# binary has nothing to warm, and gets the same load only so that both are measured alike.
# WARMUP=0 skips it (cold figures).
warm_up() {
  [ "${WARMUP:-1}" = 0 ] && return 0
  local ep
  for ep in "$@"; do
    echo "== warm-up of $ep (unmeasured)" >&2
    "$ETCDBENCH" --endpoints "$ep" --prefix /warm-up/ --workload put --clients 1 --conns 1 --total 6000 >/dev/null 2>&1 || true
    "$ETCDBENCH" --endpoints "$ep" --prefix /warm-up/ --workload put --clients 50 --conns 10 --total 20000 >/dev/null 2>&1 || true
  done
}
