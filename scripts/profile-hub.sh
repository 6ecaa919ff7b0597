#!/usr/bin/env bash
# Where a hub's CPU goes under the benchmark's load: runs ./bench.sh (pipelines redis, STREAMS streams), and once the
# measured run is a few seconds in, samples one hub's CPU for 10 s (dotnet-trace collect-linux, kernel CPU sampling),
# then its runtime counters for 5 s (dotnet-counters), then prints the hottest frames, inclusive.
# Usage: scripts/profile-hub.sh [STREAMS=100] [OUT=.data/profile]   (the tools come from .config/dotnet-tools.json)
#        TARGET=client scripts/profile-hub.sh ...   samples the load client (the benchmark's own process) instead.
# Needs perf events (root, or kernel.perf_event_paranoid <= 1); the summary is in docs/benchmarks-profile.md.
set -euo pipefail
cd "$(dirname "$0")/.."
streams=${1:-100}
out=${2:-.data/profile}
mkdir -p "$out"
dotnet tool restore >/dev/null

log="$out/bench-$streams.log"
./bench.sh --pipelines redis --streams "$streams" --rounds 1 --tokens 2000 --replay-ttl 00:00:03 \
  --markdown "$out/bench-$streams.md" --chart "$out/bench-$streams.svg" >"$log" 2>&1 &
bench=$!
trap 'kill $bench 2>/dev/null || true' EXIT

# The measured run (after the warm-up) prints "redis  N.N s ...": wait until it is 5 s in.
for _ in $(seq 1 600); do
  seconds=$(tr '\r' '\n' <"$log" | grep -A100000 'warm-up' | grep -oE '^  redis +[0-9.]+ s' | tail -1 | awk '{print int($2)}') || true
  [ -n "${seconds:-}" ] && [ "$seconds" -ge 5 ] && grep -q '^redis: ' "$log" && break
  sleep 1
done
if [ "${TARGET:-hub}" = client ]; then
  pid=$(pgrep -f 'ChatStreaming.Bench.dll run' | head -1)
else
  pid=$(pgrep -f 'ChatStreaming.Hub.dll' | head -1)
fi
# One after the other: the counters session formats every instrument it reads, which a CPU profile would count.
dotnet tool run dotnet-trace collect-linux -p "$pid" --profile cpu-sampling --duration 00:00:00:10 -o "$out/cpu-$streams.nettrace" >/dev/null 2>&1
dotnet tool run dotnet-counters collect -p "$pid" --duration 00:00:00:05 --format csv -o "$out/counters-$streams.csv" \
  --counters System.Runtime,Microsoft.AspNetCore.Server.Kestrel >/dev/null 2>&1
wait $bench || true
trap - EXIT

echo "== $streams streams: $(grep -E '^  redis: ' "$log" | tail -1)"
echo "== runtime counters of ${TARGET:-hub} $pid (last sample)"
grep -E 'cpu.time|gc.collections|gc.pause|thread_pool.(work_item|thread).count|lock_contentions' "$out/counters-$streams.csv" \
  | awk -F, '{k=$3; v=$5; last[k]=v} END {for (k in last) print "  " k ": " last[k]}' | sort
echo "== hottest frames, inclusive share of the ${TARGET:-hub}'s CPU samples"
dotnet tool run dotnet-trace report "$out/cpu-$streams.nettrace" topN -n 250 --inclusive 2>/dev/null >"$out/top-$streams.txt"
echo "  JIT (libclrjit): $(grep -m1 'libclrjit' "$out/top-$streams.txt" | awk '{print $(NF-1)}')"
grep -vE 'vmlinux!|libc\.so|__Canon|!\?  |EventName|EventData|Non-Activities|Threads  ' "$out/top-$streams.txt" | cut -c1-130 | head -80
