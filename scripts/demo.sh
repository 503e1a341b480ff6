#!/usr/bin/env bash
# Starts a local farm — a coordinator and two agents on 127.0.0.1 with CPU
# devices, state in ./gauntlet-data/ — submits examples/sweeps/demo.yaml,
# prints its results and the board's URL, and keeps the farm up until Ctrl-C
# (or exits at once with DEMO_EXIT=1).
set -euo pipefail

bin="$(cd "${1:-build/bin}" && pwd)"
root="$(cd "$(dirname "$0")/.." && pwd)"
data="${GAUNTLET_DATA:-$root/gauntlet-data}"
grpc_address="${GAUNTLET_GRPC:-127.0.0.1:7070}"
http_address="${GAUNTLET_HTTP:-127.0.0.1:8080}"
mkdir -p "$data"

pids=()
stop() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop EXIT
trap 'exit 130' INT TERM

rm -f "$data/coordinator.ready"
"$bin/gauntlet-coordinator" --db "$data/gauntlet.db" --artifacts "$data/artifacts" \
  --grpc "$grpc_address" --http "$http_address" --ready-file "$data/coordinator.ready" \
  >"$data/coordinator.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  [ -f "$data/coordinator.ready" ] && break
  if ! kill -0 "${pids[0]}" 2>/dev/null; then
    echo "the coordinator did not start; its log ($data/coordinator.log) says:" >&2
    tail -n 5 "$data/coordinator.log" >&2
    exit 1
  fi
  sleep 0.1
done

for node in node-a node-b; do
  "$bin/gauntlet-agent" --coordinator "$grpc_address" --name "$node" --devices cpu:4 \
    --workdir "$data/agents/$node" >"$data/$node.log" 2>&1 &
  pids+=($!)
done

export GAUNTLET_COORDINATOR="$grpc_address"
status=0
"$bin/gauntlet" submit "$root/examples/sweeps/demo.yaml" --wait || status=$?
echo
"$bin/gauntlet" agents
echo
echo "Board: http://$http_address/   (JSON API under http://$http_address/api/v1/)"
echo "Logs:  $data/*.log      CLI: GAUNTLET_COORDINATOR=$grpc_address $bin/gauntlet status"

if [ "${DEMO_EXIT:-0}" = "1" ]; then
  exit "$status"
fi
echo "The farm keeps running; press Ctrl-C to stop it."
wait
