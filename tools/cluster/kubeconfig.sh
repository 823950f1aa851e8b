#!/usr/bin/env bash
# Prints the path of the running local cluster's kubeconfig, and nothing else.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: npm run --silent cluster:kubeconfig [-- --help]

Prints the path of the kubeconfig of the cluster npm run cluster:up started, and nothing else,
so that it can be used as
  KUBECONFIG="$(npm run --silent cluster:kubeconfig)"
It has one context, env-progression-local, with the cluster's admin (system:masters) identity.

Options:
  --help, -h   show this help

Environment:
  ENV_PROGRESSION_CLUSTER_DIR   the state dir (default: $ENV_PROGRESSION_CACHE/cluster)
  ENV_PROGRESSION_CACHE         the engine cache (default: $XDG_CACHE_HOME/env-progression,
                                else ~/.cache/env-progression)

It exits 0 when it printed the path, and 3 when no healthy cluster runs (start one with npm run
cluster:up).

EOF
  exit_codes_help
}

# shellcheck source=tools/lib/help.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/help.sh"
help_only cluster:kubeconfig "$@"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tools/cluster/lib.sh
. "$here/lib.sh"

if ! cluster_running; then
  if [ -e "$CLUSTER_DIR" ]; then
    echo "cluster:kubeconfig: the cluster in $CLUSTER_DIR is not running or not healthy; run npm run cluster:up (it restarts a dead one)" >&2
  else
    echo "cluster:kubeconfig: no cluster runs (no state dir at $CLUSTER_DIR); run npm run cluster:up" >&2
  fi
  exit "$EXIT_PREREQUISITE"
fi
printf '%s\n' "$CLUSTER_DIR/kubeconfig"
