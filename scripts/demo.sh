#!/usr/bin/env bash
# make demo: a local farm (`gauntlet up`: a coordinator and two agents on
# 127.0.0.1 with CPU devices, state in ./gauntlet-data/), a tiny random model
# made on the spot, and the seeds' workflow on it (examples/sweeps/demo.yaml):
# reference, compile, run, validate and benchmark over dtype x TP x context.
# Prints the status matrix and the board's URL, and keeps the farm up until
# Ctrl-C (or exits at once with DEMO_EXIT=1).
set -euo pipefail

bin="$(cd "${1:-build/bin}" && pwd)"
root="$(cd "$(dirname "$0")/.." && pwd)"
data="${GAUNTLET_DATA:-$root/gauntlet-data}"
grpc_address="${GAUNTLET_GRPC:-127.0.0.1:7070}"
http_address="${GAUNTLET_HTTP:-127.0.0.1:8080}"
mkdir -p "$data"

up_pid=""
stop() {
  if [ -n "$up_pid" ]; then
    kill "$up_pid" 2>/dev/null || true
    wait "$up_pid" 2>/dev/null || true
  fi
}
trap stop EXIT
trap 'exit 130' INT TERM

# Made before the agents start: they report the model folders they hold,
# and the submit is checked against them.
mkdir -p "$data/models"
model="$data/models/tiny-llama"
if [ ! -f "$model/config.json" ]; then
  "$bin/gauntlet-worker" make-model --out "$model" --layers 2 --hidden 128 --heads 8 --kv-heads 2 --vocab 512 \
    >"$data/make-model.log" 2>&1
fi
rm -f "$data/up.ready"
"$bin/gauntlet" up --data "$data" --devices cpu:2 --agents 2 --grpc "$grpc_address" --http "$http_address" \
  --ready-file "$data/up.ready" &
up_pid=$!

sed -e "s|@MODEL@|$model|" -e "s|@ROOT@|$root|" "$root/examples/sweeps/demo.yaml" >"$data/demo.yaml"

for _ in $(seq 300); do
  [ -f "$data/up.ready" ] && break
  kill -0 "$up_pid" 2>/dev/null || { echo "gauntlet up failed; see $data/coordinator.log" >&2; exit 1; }
  sleep 0.1
done
# The addresses taken (port 0 in GAUNTLET_GRPC or GAUNTLET_HTTP picks free ones).
grpc_address="$(sed -n 1p "$data/up.ready")"
http_address="$(sed -n 2p "$data/up.ready")"

export GAUNTLET_COORDINATOR="$grpc_address"
status=0
"$bin/gauntlet" submit "$data/demo.yaml" --wait >"$data/demo-results.txt" || status=$?
tail -n 1 "$data/demo-results.txt"
echo
"$bin/gauntlet" matrix
echo
"$bin/gauntlet" agents
echo
echo "Board: http://$http_address/   (JSON API under http://$http_address/api/v1/)"
echo "Every job: $data/demo-results.txt    Logs: $data/*.log"
echo "CLI: GAUNTLET_COORDINATOR=$grpc_address $bin/gauntlet status"

if [ "${DEMO_EXIT:-0}" = "1" ]; then
  exit "$status"
fi
echo "The farm keeps running; press Ctrl-C to stop it."
wait "$up_pid"
