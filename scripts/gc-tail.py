#!/usr/bin/env python3
"""Where the tail of one benchmark run comes from: its slowest 1 % of cross-instance deliveries in the steady window,
each attributed to the longest garbage-collection pause it overlaps (a hub's, or the load client's), or to none; and,
when they were sampled (GC_ALLOCATIONS=1), what a hub allocates, by type.

Usage: scripts/gc-tail.py SAMPLES_FILE PAUSES_DIR   (both written by scripts/gc-tail.sh)
"""
import glob
import math
import os
import statistics
import sys
from collections import namedtuple

PROCESSES = [("ChatStreaming.Hub", "hub"), ("ChatStreaming.Bench-run", "load client")]  # the build's, the peers': not read

# One collection: when the process began to suspend (Unix ms), how long it was paused, the generation, the KB it
# promoted, how long the suspension itself took.
Pause = namedtuple("Pause", "start duration generation promoted_kb suspension")


def read_pauses(pauses_dir, start, end):
    """{(kind, pid): [Pause]} of the pauses that began in the window."""
    found = {}
    for path in sorted(glob.glob(os.path.join(pauses_dir, "*.txt"))):
        name = os.path.basename(path)[:-len(".txt")]
        kind = next((k for prefix, k in PROCESSES if name.startswith(prefix)), None)
        if kind is None:
            continue
        # a line: START_MS PAUSE_MS gen N promoted KB suspend MS
        rows = [Pause(float(r[0]), float(r[1]), r[3], int(r[5]), float(r[7])) for r in (line.split() for line in open(path))]
        found[(kind, name.rsplit("-", 1)[1])] = [r for r in rows if start <= r.start <= end]
    return found


def main(samples_path, pauses_dir):
    with open(samples_path) as f:
        _, _, start, end = f.readline().split()  # "# steady FROM TO"
        start, end = float(start), float(end)
        cross = [(float(e), float(l)) for kind, e, l in (line.split() for line in f) if kind == "cross" and start <= float(e) <= end]
    if not cross:
        sys.exit(f"{samples_path}: no cross-instance delivery in the steady window")
    latencies = sorted(l for _, l in cross)
    p50, p99 = latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.99)]
    span = "the whole run" if math.isinf(start) else f"steady window {(end - start) / 1000:.1f} s"
    print(f"{span}, {len(cross)} cross-instance deliveries: p50 {p50:.2f} ms, p99 {p99:.2f} ms")

    pauses = read_pauses(pauses_dir, start, end)
    print("\n| process | GCs in the window | pause median / max (ms) | of which suspending, median / max (ms) | paused in all (ms) | gen0 survivors, median (KB) | gen1/gen2 GCs |")
    print("|---|---|---|---|---|---|---|")
    for (kind, pid), rows in pauses.items():
        if rows:
            durations = [r.duration for r in rows]
            suspensions = [r.suspension for r in rows]
            gen0 = [r.promoted_kb for r in rows if r.generation == "0"]
            print(f"| {kind} (pid {pid}) | {len(rows)} | {statistics.median(durations):.1f} / {max(durations):.1f} | "
                  f"{statistics.median(suspensions):.1f} / {max(suspensions):.1f} | {sum(durations):.0f} | "
                  f"{statistics.median(gen0) if gen0 else 0:.0f} | {len(rows) - len(gen0)} |")

    for path in sorted(glob.glob(os.path.join(pauses_dir, "ChatStreaming.Hub*.alloc")))[:1]:
        lines = open(path).read().splitlines()
        print(f"\nWhat one hub allocated, by type (the runtime's allocation samples, its whole life: {lines[0].split('; ')[1]}):")
        for line in lines[1:13]:
            _, share, kind = line.split(" ", 2)
            print(f"  {share:>5} %  {kind}")

    tail = [(e, l) for e, l in cross if l >= p99]
    blamed = {}
    for emitted, latency in tail:
        overlapping = [(r.duration, kind) for (kind, _), rows in pauses.items() for r in rows
                       if r.start < emitted + latency and r.start + r.duration > emitted]
        key = max(overlapping)[1] if overlapping else "no pause"
        blamed[key] = blamed.get(key, 0) + 1
    print(f"\nThe {len(tail)} slowest deliveries (≥ p99), by the longest GC pause each overlaps (emitted → received):")
    for key, count in sorted(blamed.items(), key=lambda kv: -kv[1]):
        print(f"  {key}: {count} ({100 * count / len(tail):.0f} %)")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
