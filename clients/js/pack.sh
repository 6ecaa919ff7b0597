#!/usr/bin/env bash
# Packs @chatstreaming/client into OUT (default artifacts/packages): the package files plus Hub/wwwroot/chat-client.js,
# versioned from Directory.Build.props (the repository's one version). Prints the tarball's path.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$(mkdir -p "${1:-$root/artifacts/packages}" && cd "${1:-$root/artifacts/packages}" && pwd)
version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$root/Directory.Build.props" | head -1)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp "$here/package.json" "$here/index.js" "$here/index.d.ts" "$here/README.md" "$stage/"
cp "$root/Hub/wwwroot/chat-client.js" "$stage/"
cd "$stage"
npm pkg set version="$version" >/dev/null
echo "$out/$(npm pack --silent --pack-destination "$out" | tail -1)"
