#!/usr/bin/env python3
"""Where a command's CPU goes, by kind of process: runs COMMAND (default ./test.sh) and samples every process's CPU
time (/proc/PID/stat, utime + stime) twice a second until it exits, then prints CPU seconds per kind (hubs, Chromium,
the test host, Postgres, Redis, the benchmark, the build, ...) and the hub processes by how long they lived.

Usage: scripts/suite-cpu.py [COMMAND ...]      e.g. scripts/suite-cpu.py ./test.sh
A process that exits between two samples loses its last half second; processes running before the command count only
what they used while it ran. The README's "Tests" section quotes its output.
"""
import os
import subprocess
import sys
import time

HZ = os.sysconf("SC_CLK_TCK")
KINDS = [  # first match wins: (substring of the command line, kind)
    ("ChatStreaming.Hub.dll", "hub processes"),
    ("ChatStreaming.Bench.dll", "benchmark (load client and peer servers)"),
    ("chrom", "Chromium"),
    ("testhost", "test host"),
    # Before "node": MSBuild's worker processes run with /nodemode:N.
    *[(needle, "build, publish and packs") for needle in
      ("MSBuild", "VBCSCompiler", "csc.dll", "Razor", "crossgen", "dotnet build", "dotnet publish", "dotnet pack")],
    ("playwright", "Playwright driver (Node)"),
    ("node", "Node (npm, resumable-stream servers)"),
    ("postgres", "Postgres"), ("initdb", "Postgres"),
    ("redis", "Redis"),
    ("ChatStreaming.Client", "console client"), ("PackageConsumer", "console client"),
    ("nginx", "nginx"),
    ("vstest", "test runner"), ("dotnet test", "test runner"),
    ("while true", "busy loop"),
]


def kind_of(command):
    for needle, kind in KINDS:
        if needle in command:
            return kind
    return "other"


def sample(seen, now, first):
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
            fields = stat[stat.rfind(")") + 2:].split()
            cpu = (int(fields[11]) + int(fields[12])) / HZ
            key = (pid, fields[19])  # pid and start time: a reused pid is another process
            if key not in seen:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    command = f.read().replace(b"\0", b" ").decode(errors="replace")
                if not command:
                    continue  # kernel threads
                seen[key] = {"kind": kind_of(command), "base": cpu if first else 0.0, "cpu": cpu, "from": now, "to": now}
            else:
                seen[key]["cpu"] = cpu
                seen[key]["to"] = now
        except (OSError, IndexError, ValueError):
            pass  # exited meanwhile


def main():
    command = sys.argv[1:] or ["./test.sh"]
    seen = {}
    start = time.time()
    sample(seen, 0.0, first=True)
    child = subprocess.Popen(command)
    while child.poll() is None:
        time.sleep(0.5)
        sample(seen, time.time() - start, first=False)
    wall = time.time() - start

    totals = {}
    hubs = []
    for process in seen.values():
        used = process["cpu"] - process["base"]
        total = totals.setdefault(process["kind"], [0.0, 0])
        total[0] += used
        total[1] += 1
        if process["kind"] == "hub processes":
            hubs.append((process["to"] - process["from"], used))

    print(f"\n== CPU by kind of process over {wall:.0f} s of wall time (exit status {child.returncode})")
    for kind, (used, count) in sorted(totals.items(), key=lambda t: -t[1][0]):
        if used >= 0.5:
            print(f"{used:8.1f} s  {count:5d} processes  {kind}")
    print("== hub processes by how long they lived")
    for label, low, high in [("under 4 s (most refused at start)", 0, 4), ("4-30 s", 4, 30), ("30-120 s", 30, 120), ("over 120 s", 120, 1e9)]:
        group = [used for lived, used in hubs if low <= lived < high]
        if group:
            print(f"{len(group):5d} lived {label}: {sum(group):7.1f} s of CPU, {sum(group) / len(group):5.2f} s each")
    return child.returncode


if __name__ == "__main__":
    sys.exit(main())
