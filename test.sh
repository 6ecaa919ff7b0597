#!/usr/bin/env bash
# Runs every test against real Redis and Postgres, which the test fixture starts itself (own ports, own temp data).
# Exit status = result. Last line: "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")"
source scripts/services.sh

for tool in redis-server initdb; do
  if ! { command -v "$tool" >/dev/null 2>&1 || pg_bin "$tool" >/dev/null; }; then
    echo "$tool is missing: run .ci/run (installs it with apt) or 'sudo apt-get install redis-server postgresql'." >&2
    exit 1
  fi
done
# The fixture finds initdb/pg_ctl on PATH.
PATH="$PATH:$(dirname "$(pg_bin initdb)")"
export PATH

dotnet build ChatStreaming.sln -c Release -nologo -v quiet -clp:ErrorsOnly || { echo "0 passed, 1 failed (build)"; exit 1; }

# The hub the tests start, published as the image publishes it (the Blazor app trimmed) and compiled ReadyToRun for this
# machine: a test hub lives seconds to minutes, and precompiled code cut the hubs' CPU by a fifth (README, "Tests").
# No restore: the build's restored what it needs (Hub.csproj); a restore for one runtime would rewrite every project's
# assets file, and the next build would compile everything again.
dotnet publish Hub/Hub.csproj -c Release --no-restore -p:HubReadyToRun=true -o artifacts/hub -nologo -v quiet -clp:ErrorsOnly \
  || { echo "0 passed, 1 failed (publish)"; exit 1; }
export CHATSTREAMING_HUB="$PWD/artifacts/hub/ChatStreaming.Hub.dll" # HubInstance starts this one

# The client libraries as NuGet packages, into the local feed samples/PackageConsumer restores from (PackageTests).
rm -rf artifacts/packages
for project in Contracts Client.Core; do
  dotnet pack "$project/$project.csproj" -c Release --no-build -nologo -v quiet -o artifacts/packages || { echo "0 passed, 1 failed (pack)"; exit 1; }
done
clients/js/pack.sh artifacts/packages >/dev/null || { echo "0 passed, 1 failed (npm pack)"; exit 1; } # @chatstreaming/client (NpmPackageTests)

rm -rf TestResults
mkdir -p TestResults
dotnet test ChatStreaming.sln -c Release --no-build --results-directory TestResults \
  --logger "trx" --logger "console;verbosity=normal" "$@" 2>&1 | tee TestResults/console.log
status=${PIPESTATUS[0]}

passed=0 failed=0 skipped=0
for trx in TestResults/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx")
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
  f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  t=$(sed -n 's/.* total="\([0-9]*\)".*/\1/p' <<<"$counters")
  e=$(sed -n 's/.* executed="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + t - e))
done
[ $status -ne 0 ] && [ $failed -eq 0 ] && failed=1 # the run failed without a failed test (crash, timeout)
if [ $failed -gt 0 ]; then
  # Repeat each failure (name, message, first stack lines) at the end, where a CI log's tail shows it.
  echo "=== failed tests ==="
  grep -a -A 14 '^  Failed ' TestResults/console.log | cut -c1-400 | head -n 120
fi
echo "$passed passed, $failed failed, $skipped skipped"
exit $status
