#!/usr/bin/env bash
# Prints the folder holding the built engine and control plane, and nothing else.
set -euo pipefail
usage() {
  cat <<'USAGE'
Usage: npm run --silent engine:bin [-- --help]

Prints the folder that holds the binaries npm run engine:build built for the pins in
tools/engine/versions.json, and nothing else, so that it can be put on PATH:
  PATH="$(npm run --silent engine:bin):$PATH"

Exit codes: 0 printed, 2 bad usage or not built yet (run npm run engine:build).
USAGE
}

# shellcheck source=tools/lib/help.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/help.sh"
help_only engine:bin "$@"

. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/paths.sh"
bin="$(engine_bin_dir)"
if [ ! -f "$bin/.complete" ]; then
  echo "engine:bin: the engine for these pins is not built yet; run npm run engine:build" >&2
  exit 2
fi
printf '%s\n' "$bin"
