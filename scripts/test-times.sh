#!/usr/bin/env bash
# Where the suite's time goes: seconds per test class, from the TRX file ./test.sh leaves in TestResults/.
# Usage: scripts/test-times.sh [TestResults/*.trx]
set -euo pipefail
cd "$(dirname "$0")/.."
trx=${1:-$(ls -t TestResults/*.trx 2>/dev/null | head -1)}
[ -n "$trx" ] && [ -f "$trx" ] || { echo "no TRX file: run ./test.sh first" >&2; exit 1; }
grep -o '<UnitTestResult [^>]*>' "$trx" \
  | sed -n 's/.*testName="\([^"(]*\)[^"]*".* duration="\([0-9]*\):\([0-9]*\):\([0-9.]*\)".*/\1 \2 \3 \4/p' \
  | awk '{ n = split($1, parts, "."); cls = parts[n - 1]; s[cls] += $2 * 3600 + $3 * 60 + $4; c[cls]++; total += $2 * 3600 + $3 * 60 + $4 }
         END { for (k in s) printf "%7.1f s  %3d tests  %s\n", s[k], c[k], k; printf "%7.1f s  in all (tests of one collection run one after another; the five collections side by side)\n", total }' \
  | sort -rn
