#!/usr/bin/env python3
"""Where the tail of one benchmark run comes from: its slowest 1 % of cross-instance deliveries in the steady window,
each attributed to the longest garbage-collection pause it overlaps (a hub's, or the load client's), or to none; and
what a hub allocates, by type.

Usage: scripts/gc-tail.py SAMPLES_FILE PAUSES_DIR   (both written by scripts/gc-tail.sh)
"""
import glob
import os
import statistics
import sys


def main(samples_path, pauses_dir):
    with open(samples_path) as f:
        _, _, start, end = f.readline().split()
        start, end = float(start), float(end)
        cross = [(float(e), float(l)) for kind, e, l in (line.split() for line in f) if kind == "cross" and start <= float(e) <= end]
    if not cross:
        sys.exit(f"{samples_path}: no cross-instance delivery in the steady window")
    latencies = sorted(l for _, l in cross)
    p50, p99 = latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.99)]
    print(f"steady window {(end - start) / 1000:.1f} s, {len(cross)} cross-instance deliveries: p50 {p50:.2f} ms, p99 {p99:.2f} ms")

    pauses, table = [], []
    for path in sorted(glob.glob(os.path.join(pauses_dir, "*.txt"))):
        name = os.path.basename(path)
        who = "hub" if name.startswith("ChatStreaming.Hub") else "load client" if name.startswith("ChatStreaming.Bench-run") else None
        if who is None:
            continue  # the build, the peers' servers
        rows = [line.split() for line in open(path)]
        inside = [(float(r[0]), float(r[1]), r[3], int(r[5])) for r in rows if start <= float(r[0]) <= end]
        pauses += [(t, d, f"{who} {name.rsplit('-', 1)[1][:-4]}") for t, d, _, _ in inside]
        if inside:
            gen0 = [kb for _, _, g, kb in inside if g == "0"]
            table.append((f"{who} (pid {name.rsplit('-', 1)[1][:-4]})", len(inside), statistics.median(d for _, d, _, _ in inside),
                          max(d for _, d, _, _ in inside), sum(d for _, d, _, _ in inside), statistics.median(gen0) if gen0 else 0,
                          sum(1 for _, _, g, _ in inside if g != "0")))
    print("\n| process | GCs in the window | pause median / max (ms) | paused in all (ms) | gen0 survivors, median (KB) | gen1/gen2 GCs |")
    print("|---|---|---|---|---|---|")
    for who, n, median, longest, total, promoted, older in table:
        print(f"| {who} | {n} | {median:.1f} / {longest:.1f} | {total:.0f} | {promoted:.0f} | {older} |")

    for path in sorted(glob.glob(os.path.join(pauses_dir, "ChatStreaming.Hub*.alloc")))[:1]:
        lines = open(path).read().splitlines()
        print(f"\nWhat one hub allocated, by type (the runtime's allocation samples, its whole life: {lines[0].split('; ')[1]}):")
        for line in lines[1:13]:
            kb, share, kind = line.split(" ", 2)
            print(f"  {share:>5} %  {kind}")

    tail = [(e, l) for e, l in cross if l >= p99]
    blamed = {}
    for emitted, latency in tail:
        overlapping = [p for p in pauses if p[0] < emitted + latency and p[0] + p[1] > emitted]
        key = max(overlapping, key=lambda p: p[1])[2].split(" ")[0] if overlapping else "no pause"
        key = {"load": "load client"}.get(key, key)
        blamed[key] = blamed.get(key, 0) + 1
    print(f"\nThe {len(tail)} slowest deliveries (≥ p99), by the longest GC pause each overlaps (emitted → received):")
    for key, count in sorted(blamed.items(), key=lambda kv: -kv[1]):
        print(f"  {key}: {count} ({100 * count / len(tail):.0f} %)")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
