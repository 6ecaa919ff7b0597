#!/usr/bin/env bash
# Starts everything: Redis and Postgres (data under .data/), then two Hub instances sharing them.
# Usage: ./run.sh [--lb] [--cluster]     Ctrl-C stops everything it started.
#   --lb       also starts nginx on http://127.0.0.1:5000 in front of both hubs (deploy/nginx.conf).
#   --cluster  Redis Cluster instead of one Redis: 6 local nodes (3 masters, 3 replicas) on ports 7100-7105, no Docker.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/services.sh

REDIS_PORT=${REDIS_PORT:-6380}
PG_PORT=${PG_PORT:-5433}
PORTS=(${HUB_PORTS:-5080 5081})

REDIS_CLUSTER_PORT=${REDIS_CLUSTER_PORT:-7100}
LB=false
CLUSTER=false
for arg in "$@"; do
  case "$arg" in
    --lb) LB=true ;;
    --cluster) CLUSTER=true ;;
    *) echo "unknown option $arg (--lb, --cluster)" >&2; exit 2 ;;
  esac
done

ensure_servers
if $LB && ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  echo "Installing nginx (apt)..."
  as_root apt-get install -y -qq nginx >/dev/null || { echo "Could not install nginx: run 'sudo apt-get install nginx'." >&2; exit 1; }
fi
if $CLUSTER; then
  start_redis_cluster .data/redis-cluster "$REDIS_CLUSTER_PORT"
  REDIS_CONNECTION=$(seq -s, -f "127.0.0.1:%g" "$REDIS_CLUSTER_PORT" $((REDIS_CLUSTER_PORT + 5)))
  echo "Redis    cluster on 127.0.0.1:$REDIS_CLUSTER_PORT-$((REDIS_CLUSTER_PORT + 5)) (3 masters, 3 replicas)"
else
  start_redis .data/redis "$REDIS_PORT"
  REDIS_CONNECTION="127.0.0.1:$REDIS_PORT"
  echo "Redis    127.0.0.1:$REDIS_PORT"
fi
start_postgres .data/postgres "$PG_PORT"
echo "Postgres 127.0.0.1:$PG_PORT (data in .data/)"

echo "Building (Release)..."
dotnet build ChatStreaming.sln -c Release -nologo -v quiet -clp:ErrorsOnly

pids=()
cleanup() {
  trap - INT TERM EXIT
  echo; echo "Stopping..."
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -f /tmp/chatstreaming-nginx.pid ] && kill "$(cat /tmp/chatstreaming-nginx.pid)" 2>/dev/null || true
  wait 2>/dev/null || true
  stop_services .data/redis .data/postgres
  stop_redis_cluster .data/redis-cluster
  exit 0
}
trap cleanup INT TERM EXIT

# Unless a model is configured (Chat__Model__* or Chat__Models__*), a demo catalog of two offline models: "simulated"
# (the default) and "thinking" (reasons first and may call search_history, your own history).
if ! env | grep -qE '^Chat__Models?__'; then
  export Chat__DefaultModel=simulated Chat__Models__simulated__Provider=Simulated \
    Chat__Models__thinking__Provider=Simulated Chat__Models__thinking__Simulated__ReasoningTokens=24 \
    Chat__Models__thinking__Tools__0=search_history
fi

mkdir -p .data/logs
for port in "${PORTS[@]}"; do
  ASPNETCORE_ENVIRONMENT=${ASPNETCORE_ENVIRONMENT:-Development} \
  ConnectionStrings__Redis="$REDIS_CONNECTION" \
  ConnectionStrings__Postgres="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=chatstreaming" \
    dotnet Hub/bin/Release/net10.0/ChatStreaming.Hub.dll --urls "http://127.0.0.1:$port" >".data/logs/hub-$port.log" 2>&1 &
  pids+=($!)
done

for port in "${PORTS[@]}"; do
  for _ in $(seq 1 120); do
    curl -fs "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1 && break
    sleep 0.5
  done
  curl -fs "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1 || { echo "Hub on port $port did not start; see .data/logs/hub-$port.log:"; tail -5 ".data/logs/hub-$port.log"; exit 1; }
done

echo
for port in "${PORTS[@]}"; do echo "Hub      http://127.0.0.1:$port   (hub /hubs/chat, logs .data/logs/hub-$port.log)"; done
if $LB; then
  mkdir -p .data/nginx
  "$(command -v nginx || echo /usr/sbin/nginx)" -p "$PWD/.data/nginx/" -c "$PWD/deploy/nginx.conf" -g "daemon off;" >.data/logs/nginx.log 2>&1 &
  pids+=($!)
  echo "nginx    http://127.0.0.1:5000   (both hubs behind one URL; WebSocket clients use skipNegotiation; logs .data/logs/nginx.log)"
fi
echo
echo "Browser  http://127.0.0.1:${PORTS[0]}/        (JavaScript page; open http://127.0.0.1:${PORTS[1]}/ in a second tab)"
echo "Blazor   http://127.0.0.1:${PORTS[0]}/web/    (Blazor WebAssembly app)"
echo "Console  dotnet run --project Client -- --url http://127.0.0.1:${PORTS[0]} --user alice"
echo
echo "Try:  ../shared/contract-smoke/run http://127.0.0.1:${PORTS[0]} http://127.0.0.1:${PORTS[1]}   (if you have it)"
echo "      curl -s -X POST http://127.0.0.1:${PORTS[0]}/api/auth/dev-token -H 'content-type: application/json' -d '{\"userName\":\"alice\"}'"
echo "Ctrl-C stops everything."
wait -n "${pids[@]}" || true
echo "A hub exited; see .data/logs/."
