#!/usr/bin/env bash
# An outside load with the official JavaScript client against two running hubs (scripts/js-load.mjs says what it does).
# The hubs: Auth__DevTokensPerMinute=0 (one address signs in every user) and 10-s answers, e.g.
#   Auth__DevTokensPerMinute=0 Chat__DefaultModel=simulated Chat__Models__simulated__Provider=Simulated \
#     Chat__Models__simulated__Simulated__ResponseTokens=500 ./run.sh
# Usage: scripts/js-load.sh http://127.0.0.1:5080 http://127.0.0.1:5081 [--users 100] [--answers 1] [--keep] [--idle N] [--timeline]
set -euo pipefail
cd "$(dirname "$0")/.."
# The browser page's pinned client (Hub/ClientApp/package-lock.json), installed by the build or here.
[ -d Hub/ClientApp/node_modules/@microsoft/signalr ] || (cd Hub/ClientApp && npm ci --no-audit --no-fund >/dev/null)
exec node scripts/js-load.mjs "$@"
