#!/usr/bin/env bash
# The benchmark: Redis push vs Postgres polling (per stream, and batched per instance) vs LISTEN/NOTIFY vs the peers, interleaved on this machine.
# Usage: ./bench.sh [--cluster] [--streams 100] [--tokens-per-second 50] [--tokens 500] [--ramp 100,200,500,1000,2000] [--ramp-tokens 500] [--pipelines redis,redis-msgpack,signalr-group,resumable-stream,raw-websocket,polling,bestpolling,notify] [--rounds 3] [--ramp-rounds 1] [--quick] [--json FILE] [--samples PREFIX]
# Writes docs/benchmarks.md and docs/benchmarks.svg (not with --quick). Starts its own Redis and Postgres (data in .data/bench-*), both emptied first.
# --cluster also starts a local 6-node Redis Cluster (ports 7200-7205) and adds the redis-cluster pipeline after redis.
# Every server's output goes to .data/bench-logs/server-PORT.log; a server that dies during a run says so in the run's log.
# BENCH_PG_OPTIONS (e.g. "Max Auto Prepare=0;No Reset On Close=false") is appended to every server's Postgres connection string.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/services.sh

CLUSTER=0
args=()
for arg in "$@"; do
  if [ "$arg" = "--cluster" ]; then CLUSTER=1; else args+=("$arg"); fi
done
REDIS_PORT=${BENCH_REDIS_PORT:-6382}
CLUSTER_PORT=${BENCH_REDIS_CLUSTER_PORT:-7200}
PG_PORT=${BENCH_PG_PORT:-5435}
ensure_servers
start_redis .data/bench-redis "$REDIS_PORT"
PG_EXTRA_OPTIONS="-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track_utility=off -c max_connections=2000" \
  start_postgres .data/bench-postgres "$PG_PORT"
trap 'stop_services .data/bench-redis .data/bench-postgres; stop_redis_cluster .data/bench-redis-cluster' EXIT
redis-cli -p "$REDIS_PORT" flushall >/dev/null
cluster_args=()
if [ "$CLUSTER" = 1 ]; then
  start_redis_cluster .data/bench-redis-cluster "$CLUSTER_PORT"
  cluster_args=(--redis-cluster "$(seq -s, -f "127.0.0.1:%g" "$CLUSTER_PORT" $((CLUSTER_PORT + 5)))")
fi

dotnet build ChatStreaming.sln -c Release -nologo -v quiet -clp:ErrorsOnly
dotnet build-server shutdown >/dev/null 2>&1 || true # idle compilers must not share the CPU with the measurement
dotnet Bench/bin/Release/net10.0/ChatStreaming.Bench.dll run \
  --redis "127.0.0.1:$REDIS_PORT" \
  --postgres "Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=chatstreaming_bench;Maximum Pool Size=200${BENCH_PG_OPTIONS:+;$BENCH_PG_OPTIONS}" \
  --postgres-data .data/bench-postgres/data \
  --command "./bench.sh $*" "${cluster_args[@]}" "${args[@]}"
