#!/usr/bin/env bash
# The soak (minutes; not part of ./test.sh or CI): many clients over two hub instances, continuous answers, Redis pub/sub
# connections killed on a schedule. Reports answers with a gap or double (must be 0) and the memory slope of the hubs
# and Redis after warm-up. Exit status 0 only when every answer ended exact.
# Usage: ./soak.sh [--clients 200] [--minutes 10] [--kill-every 2] [--tokens-per-second 10] [--tokens 60] [--markdown docs/soak.md] [--json FILE]
set -euo pipefail
cd "$(dirname "$0")"
source scripts/services.sh

REDIS_PORT=${SOAK_REDIS_PORT:-6383}
PG_PORT=${SOAK_PG_PORT:-5436}
ensure_servers
start_redis .data/soak-redis "$REDIS_PORT"
PG_EXTRA_OPTIONS="-c max_connections=500" start_postgres .data/soak-postgres "$PG_PORT"
trap 'stop_services .data/soak-redis .data/soak-postgres' EXIT
redis-cli -p "$REDIS_PORT" flushall >/dev/null

dotnet build ChatStreaming.sln -c Release -nologo -v quiet -clp:ErrorsOnly
dotnet build-server shutdown >/dev/null 2>&1 || true
dotnet Bench/bin/Release/net10.0/ChatStreaming.Bench.dll soak \
  --redis "127.0.0.1:$REDIS_PORT" \
  --postgres "Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=chatstreaming_soak;Maximum Pool Size=100" \
  --command "./soak.sh $*" "$@"
