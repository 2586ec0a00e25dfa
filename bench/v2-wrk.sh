#!/usr/bin/env bash
# Throughput of the v2 API (PUT, GET) and the v3 JSON gateway (put, range), driven by wrk with
# 50 connections, against real etcd 3.4 and etcd-ts on this machine: one server at a time, each
# a fresh single-member cluster in a fresh data dir with the same flags (--enable-v2). Prints a
# table of requests/s and the ratio etcd-ts/etcd. A benchmark, not a test: numbers vary with load.
#
# Usage: bench/v2-wrk.sh [seconds per run, default 10]
# Needs: wrk (apt-get install wrk), /usr/bin/etcd (etcd-server), a built etcd-ts (npm run build).
set -euo pipefail

DURATION="${1:-10}"
CONNS=50
THREADS=4
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
ETCD_BIN="${E2E_ETCD_BIN:-/usr/bin/etcd}"
ETCD_TS="$ROOT/dist/src/bin/etcd-ts.js"
CPORT="${BENCH_CLIENT_PORT:-23979}"
PPORT="${BENCH_PEER_PORT:-23980}"
URL="http://127.0.0.1:$CPORT"

command -v wrk >/dev/null || { echo "wrk missing: apt-get install wrk" >&2; exit 1; }
[ -x "$ETCD_BIN" ] || { echo "$ETCD_BIN missing: apt-get install etcd-server" >&2; exit 1; }
[ -f "$ETCD_TS" ] || { echo "$ETCD_TS missing: npm run build" >&2; exit 1; }

WORK="$(mktemp -d)"
PID=""
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

start() { # $1 = etcd | etcd-ts
  local dir="$WORK/$1"
  mkdir -p "$dir"
  local args=(--name bench --data-dir "$dir/data"
    --listen-client-urls "$URL" --advertise-client-urls "$URL"
    --listen-peer-urls "http://127.0.0.1:$PPORT" --initial-advertise-peer-urls "http://127.0.0.1:$PPORT"
    --initial-cluster "bench=http://127.0.0.1:$PPORT" --initial-cluster-token bench --enable-v2)
  if [ "$1" = etcd ]; then "$ETCD_BIN" "${args[@]}" >"$dir/log" 2>&1 &
  else node "$ETCD_TS" "${args[@]}" >"$dir/log" 2>&1 &
  fi
  PID=$!
  for _ in $(seq 1 200); do
    if curl -sf "$URL/health" 2>/dev/null | grep -q '"health":"true"'; then return 0; fi
    sleep 0.1
  done
  echo "$1 did not become healthy; log:" >&2; tail -20 "$dir/log" >&2; exit 1
}

stop() {
  kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
}

# One wrk run; prints requests/s (and warns on stderr about non-2xx answers or socket errors).
measure() { # $1 = label, $2 = lua script
  local out
  out="$(wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" -s "$HERE/$2" "$URL")"
  if grep -qE 'Non-2xx|Socket errors' <<<"$out"; then
    echo "  warning: $1: $(grep -E 'Non-2xx|Socket errors' <<<"$out" | tr -s ' ' | paste -sd';')" >&2
  fi
  awk '/^Requests\/sec:/ { print $2 }' <<<"$out"
}

preload() {
  for i in $(seq 0 999); do echo "url = \"$URL/v2/keys/bench/$i\""; echo 'request = "PUT"'; echo 'data = "value=v"'; done >"$WORK/preload.cfg"
  curl -sf -K "$WORK/preload.cfg" >/dev/null
}

declare -A RESULT
OPS=("v2 PUT:v2-put.lua" "v2 GET:v2-get.lua" "gateway put:gateway-put.lua" "gateway range:gateway-range.lua")
for kind in etcd etcd-ts; do
  echo "== $kind: ${DURATION}s per run, $CONNS connections, $THREADS wrk threads" >&2
  start "$kind"
  preload
  for op in "${OPS[@]}"; do
    label="${op%%:*}"
    RESULT["$kind/$label"]="$(measure "$kind $label" "${op#*:}")"
    echo "  $label: ${RESULT["$kind/$label"]} req/s" >&2
  done
  stop
done

printf '\n%-16s %12s %12s %14s\n' "operation" "etcd 3.4" "etcd-ts" "etcd-ts/etcd"
for op in "${OPS[@]}"; do
  label="${op%%:*}"
  e="${RESULT["etcd/$label"]}"; t="${RESULT["etcd-ts/$label"]}"
  printf '%-16s %12s %12s %14s\n' "$label" "$e" "$t" "$(awk -v a="$t" -v b="$e" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')"
done
