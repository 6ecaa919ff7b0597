#!/usr/bin/env bash
# Where a benchmark run's p99 comes from: ./bench.sh --pipelines redis --streams STREAMS (default 100) with every .NET
# process it starts logging its garbage-collection pauses (Tools/GcPauses, a startup hook: DOTNET_STARTUP_HOOKS), and
# every delivery written out (--samples); then scripts/gc-tail.py attributes the steady window's slowest 1 % of
# cross-instance deliveries to the pauses they overlap (a hub's or the load client's).
# Usage: scripts/gc-tail.sh [STREAMS] [more ./bench.sh options]   Output kept in a temporary directory (printed).
# GC_ALLOCATIONS=1 scripts/gc-tail.sh also samples what the hubs allocate, by type (it costs them some CPU).
set -euo pipefail
cd "$(dirname "$0")/.."
streams=${1:-100}
shift || true
out=$(mktemp -d /tmp/gc-tail.XXXXXX)
# The hook first, on its own: every dotnet process below (./bench.sh builds too) loads it, and fails without it.
dotnet build Tools/GcPauses -c Release -nologo -v quiet -clp:ErrorsOnly
GC_PAUSES_DIR=$out DOTNET_STARTUP_HOOKS=$PWD/Tools/GcPauses/bin/Release/net10.0/ChatStreaming.GcPauses.dll \
  ./bench.sh --pipelines redis --streams "$streams" --rounds 1 --markdown "$out/bench.md" --chart "$out/bench.svg" --json "$out/bench.json" \
  --samples "$out/samples" "$@"
echo "output: $out"
python3 scripts/gc-tail.py "$out/samples-redis-$streams.txt" "$out"
