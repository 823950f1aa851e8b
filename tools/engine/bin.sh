#!/usr/bin/env bash
# Prints the folder holding the built engine and control plane, and nothing else.
set -euo pipefail
usage() {
  cat <<'USAGE'
Usage: npm run --silent engine:bin [-- --help]

Prints the folder that holds the binaries npm run engine:build built for the pins in
tools/engine/versions.json, and nothing else, so that it can be put on PATH:
  PATH="$(npm run --silent engine:bin):$PATH"

Options:
  --help, -h   show this help

It exits 0 when it printed the folder, and 3 when the engine is not built yet (run npm run
engine:build).

USAGE
  exit_codes_help
}

# shellcheck source=tools/lib/help.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/help.sh"
help_only engine:bin "$@"

. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/paths.sh"
bin="$(engine_bin_dir)"
if [ ! -f "$bin/.complete" ]; then
  echo "engine:bin: the engine for these pins is not built yet; run npm run engine:build" >&2
  exit "$EXIT_PREREQUISITE"
fi
printf '%s\n' "$bin"
