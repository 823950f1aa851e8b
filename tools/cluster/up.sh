#!/usr/bin/env bash
# Starts the local control plane: etcd, kube-apiserver, kube-controller-manager, kube-scheduler and
# kwok (standing in for kubelets), from the binaries npm run engine:build made, on loopback.
# This file is the order and the flags; how each step is done is in the files it sources beside it:
# pki.sh (certificates, kubeconfig), supervise.sh (starting a component, waiting until it is
# healthy, a failed or interrupted start) and objects.sh (the Node, IngressClass and volumes).
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: npm run cluster:up [-- --help]

Starts a local Kubernetes control plane on 127.0.0.1 from the binaries that npm run engine:build
made: etcd, kube-apiserver (default admission plugins, Pod Security included; RBAC),
kube-controller-manager, kube-scheduler, and kwok, which plays the kubelet of one Node so that
pods are scheduled, become Running and Ready, and Jobs complete, without any container running.
Then it creates the IngressClass nginx, PersistentVolumes for the stacks' databases, and waits
until the API server is ready, the Node is Ready and namespace default has its ServiceAccount.

The processes outlive this command; npm run cluster:down stops them. If the cluster already runs,
it says so and exits 0. A state dir left by a cluster that died is cleaned and started afresh.

Options:
  --help, -h   show this help

Environment:
  ENV_PROGRESSION_CLUSTER_DIR   the state dir: certificates, etcd data, logs, pids, ports and the
                                kubeconfig (default: $ENV_PROGRESSION_CACHE/cluster)
  ENV_PROGRESSION_CACHE         the engine cache (default: $XDG_CACHE_HOME/env-progression,
                                else ~/.cache/env-progression)

Ports are free ones chosen at start, recorded in <state dir>/ports.env. npm run --silent
cluster:kubeconfig prints the kubeconfig's path (one context, env-progression-local).

It exits 0 when the cluster runs; 1 when a component failed to start (the line names it and
prints the end of its log), or the ports, the certificates or the stop of a dead cluster's
leftovers failed; 2 when ENV_PROGRESSION_CLUSTER_DIR holds a folder it did not make; 3 when the
engine is not built (run npm run engine:build) or openssl, curl, jq, node, setsid or flock is
missing.

EOF
  exit_codes_help
}

# shellcheck source=tools/lib/help.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/help.sh"
help_only cluster:up "$@"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tools/cluster/lib.sh
. "$here/lib.sh"
# shellcheck source=tools/cluster/pki.sh
. "$here/pki.sh"
# shellcheck source=tools/cluster/supervise.sh
. "$here/supervise.sh"
# shellcheck source=tools/cluster/objects.sh
. "$here/objects.sh"

for tool in openssl curl jq node setsid flock; do
  command -v "$tool" >/dev/null || {
    echo "cluster:up: '$tool' is not on PATH; it is needed to make certificates, choose ports and talk to the API server (apt-get install openssl curl jq util-linux; node comes with npm)" >&2
    exit "$EXIT_PREREQUISITE"
  }
done

if bin="$(bash "$_repo_root/tools/engine/bin.sh" 2>/dev/null)"; then :; else
  status=$?
  if [ "$status" -ne "$EXIT_PREREQUISITE" ]; then
    echo "cluster:up: npm run engine:bin failed (exit $status); run it alone to see why" >&2
    exit "$EXIT_INTERNAL"
  fi
  echo "cluster:up: the engine is not built (no complete folder under $ENGINE_CACHE/engine for the pins of tools/engine/versions.json); run npm run engine:build" >&2
  exit "$EXIT_PREREQUISITE"
fi
for c in "${CLUSTER_COMPONENTS[@]}"; do
  [ -x "$bin/$c" ] || {
    echo "cluster:up: $bin/$c is missing or not executable; run npm run engine:build" >&2
    exit "$EXIT_PREREQUISITE"
  }
done
kwok_module="$ENGINE_CACHE/go/mod/sigs.k8s.io/kwok@v0.8.0"
[ -d "$kwok_module/kustomize/stage" ] || {
  echo "cluster:up: kwok's Stages are not in the module cache ($kwok_module/kustomize/stage); run npm run engine:build" >&2
  exit "$EXIT_PREREQUISITE"
}

# One up or down at a time: a lock on the state dir's parent, which leaves no file behind. The
# daemons are started with this descriptor closed, so they never hold it.
mkdir -p "$(dirname "$CLUSTER_DIR")"
exec 9<"$(dirname "$CLUSTER_DIR")"
flock 9

# Already up? If every process lives, give a busy API server a few seconds before calling it
# unhealthy, since what follows would stop it.
if [ -f "$CLUSTER_READY_MARK" ] && cluster_all_alive; then
  for _ in $(seq 1 30); do
    if cluster_running; then
      echo "cluster:up: already running (API server https://127.0.0.1:$APISERVER_PORT, state $CLUSTER_DIR)"
      echo "  kubeconfig $CLUSTER_DIR/kubeconfig"
      exit 0
    fi
    sleep 0.5
  done
fi

# What is left is stale: stop whatever of it still runs, then start from an empty state dir.
STATE_MARK="$CLUSTER_DIR/.env-progression-cluster"
if [ -e "$CLUSTER_DIR" ]; then
  if [ ! -f "$STATE_MARK" ] && [ -n "$(ls -A "$CLUSTER_DIR" 2>/dev/null)" ]; then
    echo "cluster:up: $CLUSTER_DIR exists and is not a state dir this script made (no $(basename "$STATE_MARK")); refusing to empty it. Point ENV_PROGRESSION_CLUSTER_DIR at another folder, or remove it yourself" >&2
    exit "$EXIT_USAGE"
  fi
  if cluster_any_alive; then
    echo "cluster:up: a cluster in $CLUSTER_DIR is not healthy; stopping what is left of it"
    cluster_stop_all || {
      echo "cluster:up: could not stop the processes above; stop them by pid and run again" >&2
      exit "$EXIT_FAILED"
    }
  else
    echo "cluster:up: cleaning the stale state dir $CLUSTER_DIR (its processes are gone)"
  fi
  rm -rf "$CLUSTER_DIR"
fi

mkdir -p "$CLUSTER_DIR"/{pki,etcd,logs,pids,volumes}
chmod 700 "$CLUSTER_DIR"
: >"$STATE_MARK"
pki="$CLUSTER_DIR/pki"
t_total=$EPOCHREALTIME

# --- ports: free ones, chosen by the kernel, all held open together so that they differ -------
ports="$(
  node -e '
    const net = require("node:net");
    const servers = [];
    const next = (n) => {
      if (n === 0) {
        console.log(servers.map((s) => s.address().port).join(" "));
        for (const s of servers) s.close();
        return;
      }
      const s = net.createServer();
      servers.push(s);
      s.listen(0, "127.0.0.1", () => next(n - 1));
    };
    next(6);'
)" || ports=""
read -r ETCD_PORT ETCD_PEER_PORT APISERVER_PORT KCM_PORT SCHEDULER_PORT KWOK_PORT <<<"$ports" || true
[ -n "${KWOK_PORT:-}" ] || { echo "cluster:up: could not choose free ports on 127.0.0.1 (node could not listen)" >&2; exit "$EXIT_FAILED"; }
cat >"$CLUSTER_DIR/ports.env" <<EOF
ETCD_PORT=$ETCD_PORT
ETCD_PEER_PORT=$ETCD_PEER_PORT
APISERVER_PORT=$APISERVER_PORT
KCM_PORT=$KCM_PORT
SCHEDULER_PORT=$SCHEDULER_PORT
KWOK_PORT=$KWOK_PORT
EOF

# --- certificates and kubeconfig (pki.sh) ---------------------------------------------------------
t0=$EPOCHREALTIME
cluster_make_pki || {
  echo "cluster:up: openssl failed to make the certificates in $pki; its output:" >&2
  tail -n 20 "$CLUSTER_DIR/logs/openssl.log" >&2
  exit "$EXIT_FAILED"
}
chmod 600 "$pki"/*.key
printf '  %-24s made in %ss\n' certificates "$(elapsed_since "$t0")"

kubeconfig="$CLUSTER_DIR/kubeconfig"
cluster_write_kubeconfig

# --- kwok's Stages: its own node and pod lifecycles, then this project's (stages.yaml) -----------
stage_files=(
  "$kwok_module/kustomize/stage/node/fast/node-initialize.yaml"
  # kwok renews the Node's Lease itself (as a kubelet does), so the lease variant of heartbeat.
  "$kwok_module/kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml"
  # Pods: kwok's general lifecycle (init containers, Running and Ready, Jobs' pods Succeeded);
  # its pod-delete is replaced by stages.yaml's pod-delete-prompt.
  "$kwok_module"/kustomize/stage/pod/general/pod-{create,init-container-running,init-container-completed,ready,complete}.yaml
  "$here/stages.yaml"
)
for f in "${stage_files[@]}"; do
  [ -f "$f" ] || { echo "cluster:up: kwok Stage file $f is missing; run npm run engine:build" >&2; exit "$EXIT_PREREQUISITE"; }
  cat "$f"
  printf '\n---\n'
done >"$CLUSTER_DIR/kwok.yaml"

# --- starting and waiting (supervise.sh) ----------------------------------------------------------
# Interrupted from here on (Ctrl-C): leave no half-started cluster running.
trap interrupted INT TERM

SERVICE_RANGE=10.96.0.0/16
NODE_NAME=kwok-node-0

start etcd 30 etcd_healthy -- \
  --name env-progression-local \
  --data-dir "$CLUSTER_DIR/etcd" \
  --listen-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster "env-progression-local=http://127.0.0.1:$ETCD_PEER_PORT" \
  --unsafe-no-fsync \
  --log-level warn
# --unsafe-no-fsync: this etcd holds only a throwaway cluster; fsync per write is what makes a
# control plane slow on a laptop or CI disk, and a crash loses nothing anyone keeps.

# --endpoint-reconciler-type=none: the API server will not advertise a loopback address in the
# kubernetes Service's endpoints, and refuses to start if asked to reconcile them.
# Admission: the defaults, PodSecurity among them (namespaces get the restricted label).
# --allow-privileged as on any real cluster (kind, kubeadm), so that it is Pod Security that
# refuses a privileged pod in a restricted namespace, not the API server's blanket rule.
start kube-apiserver 120 apiserver_ready -- \
  --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
  --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$APISERVER_PORT" \
  --endpoint-reconciler-type none \
  --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
  --client-ca-file "$pki/ca.crt" \
  --authorization-mode RBAC \
  --allow-privileged=true \
  --service-account-key-file "$pki/sa.pub" \
  --service-account-signing-key-file "$pki/sa.key" \
  --service-account-issuer https://kubernetes.default.svc.cluster.local \
  --service-cluster-ip-range "$SERVICE_RANGE" \
  --profiling=false

common_client=(
  --kubeconfig "$kubeconfig"
  --authentication-kubeconfig "$kubeconfig" --authorization-kubeconfig "$kubeconfig"
  --bind-address 127.0.0.1 --leader-elect=false --profiling=false
)

# The service-account and token controllers give each namespace its default ServiceAccount, which
# pods need before admission lets them in; --root-ca-file fills kube-root-ca.crt in each namespace.
start kube-controller-manager 60 kcm_healthy -- \
  "${common_client[@]}" --secure-port "$KCM_PORT" \
  --service-account-private-key-file "$pki/sa.key" \
  --root-ca-file "$pki/ca.crt" \
  --use-service-account-credentials \
  --service-cluster-ip-range "$SERVICE_RANGE"

start kube-scheduler 60 scheduler_healthy -- \
  "${common_client[@]}" --secure-port "$SCHEDULER_PORT"

# The one Node kwok plays (objects.sh), before kwok starts.
cluster_create_node

# The node's liveness is its Lease, as a kubelet's is: kwok renews it, and its heartbeat Stage
# refreshes the conditions only now and then. Without a Lease, kube-controller-manager's node
# lifecycle controller takes the node for dead after its grace period and marks every pod on it
# unready (pods then leave Services and Deployments lose availability), which the engine suite saw.
start kwok 60 kwok_healthy -- \
  --kubeconfig "$kubeconfig" \
  --config "$CLUSTER_DIR/kwok.yaml" \
  --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
  --node-lease-duration-seconds 40 \
  --server-address "127.0.0.1:$KWOK_PORT" \
  --node-ip 127.0.0.1 \
  --cidr 10.244.0.0/16

t0=$EPOCHREALTIME
wait_ready kwok 60 node_ready || fail kwok "Node $NODE_NAME did not become Ready within 60s"
printf '  %-24s Ready in %ss\n' "node $NODE_NAME" "$(elapsed_since "$t0")"

t0=$EPOCHREALTIME
wait_ready kube-controller-manager 60 default_sa ||
  fail kube-controller-manager "namespace default got no ServiceAccount default within 60s"
printf '  %-24s created in %ss\n' "serviceaccount default" "$(elapsed_since "$t0")"

# --- what the stacks expect of a cluster (objects.sh) ---------------------------------------------
cluster_create_stack_objects

: >"$CLUSTER_READY_MARK"
echo "cluster:up: running in $(elapsed_since "$t_total")s; API server https://127.0.0.1:$APISERVER_PORT, state $CLUSTER_DIR"
echo "  kubeconfig $kubeconfig (context $CLUSTER_CONTEXT); stop with npm run cluster:down"
