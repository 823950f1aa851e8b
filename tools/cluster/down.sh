#!/usr/bin/env bash
# Stops the local control plane that cluster:up started, and removes its state dir.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: npm run cluster:down [-- --help]

Stops every process npm run cluster:up started (kwok, kube-scheduler, kube-controller-manager,
kube-apiserver, etcd: TERM, then KILL after 5 seconds), checks that none is left, and removes
the state dir with everything in it (certificates, etcd data, logs, kubeconfig). Nothing runs
and nothing is left afterwards. When no cluster runs it says so and exits 0.

Options:
  --help, -h   show this help

Environment:
  ENV_PROGRESSION_CLUSTER_DIR   the state dir (default: $ENV_PROGRESSION_CACHE/cluster)
  ENV_PROGRESSION_CACHE         the engine cache (default: $XDG_CACHE_HOME/env-progression,
                                else ~/.cache/env-progression)

It exits 0 when it stopped the cluster or none ran; 1 when a process could not be stopped (its
pid is printed) or the state dir could not be removed; 2 when ENV_PROGRESSION_CLUSTER_DIR holds a
folder cluster:up did not make; 3 when flock (util-linux) is missing.

EOF
  exit_codes_help
}

# shellcheck source=tools/lib/help.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/help.sh"
help_only cluster:down "$@"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tools/cluster/lib.sh
. "$here/lib.sh"

if [ ! -e "$CLUSTER_DIR" ]; then
  echo "cluster:down: no cluster runs (no state dir at $CLUSTER_DIR); nothing to do"
  exit 0
fi
if [ ! -f "$CLUSTER_DIR/.env-progression-cluster" ] && [ -n "$(ls -A "$CLUSTER_DIR" 2>/dev/null)" ]; then
  echo "cluster:down: $CLUSTER_DIR is not a state dir cluster:up made (no .env-progression-cluster in it); leaving it alone" >&2
  exit "$EXIT_USAGE"
fi

command -v flock >/dev/null || {
  echo "cluster:down: 'flock' is not on PATH; it keeps a down from racing an up (apt-get install util-linux)" >&2
  exit "$EXIT_PREREQUISITE"
}
# The same lock as cluster:up, so that a down never races an up half-way through.
exec 9<"$(dirname "$CLUSTER_DIR")"
flock 9

t0=$EPOCHREALTIME
if cluster_any_alive; then
  cluster_stop_all || {
    echo "cluster:down: the processes above are still running; the state dir $CLUSTER_DIR is kept" >&2
    exit "$EXIT_FAILED"
  }
else
  echo "cluster:down: no process of the cluster was running; removing its state dir"
fi

# Check again, from the pid files, that nothing of ours survived before removing them.
if cluster_any_alive; then
  echo "cluster:down: a cluster process is still alive after stopping; the state dir $CLUSTER_DIR is kept" >&2
  exit "$EXIT_FAILED"
fi
rm -rf "$CLUSTER_DIR" || {
  echo "cluster:down: could not remove $CLUSTER_DIR" >&2
  exit "$EXIT_FAILED"
}
echo "cluster:down: stopped and removed $CLUSTER_DIR in $(elapsed_since "$t0")s"
