#!/usr/bin/env bash
# Starts the local control plane: etcd, kube-apiserver, kube-controller-manager, kube-scheduler and
# kwok (standing in for kubelets), from the binaries npm run engine:build made, on loopback.
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

  --help       show this help

Environment:
  ENV_PROGRESSION_CLUSTER_DIR   the state dir: certificates, etcd data, logs, pids, ports and the
                                kubeconfig (default: $ENV_PROGRESSION_CACHE/cluster)
  ENV_PROGRESSION_CACHE         the engine cache (default: $XDG_CACHE_HOME/env-progression,
                                else ~/.cache/env-progression)

Ports are free ones chosen at start, recorded in <state dir>/ports.env. npm run --silent
cluster:kubeconfig prints the kubeconfig's path (one context, env-progression-local).

Exit codes: 0 running, 2 bad usage or a missing prerequisite (the engine not built: run
npm run engine:build; openssl, curl, jq or node missing), 4 a component failed to start (the
line names it and prints the end of its log).
EOF
}

# shellcheck source=tools/lib/help.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/help.sh"
help_only cluster:up "$@"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tools/cluster/lib.sh
. "$here/lib.sh"

for tool in openssl curl jq node setsid flock; do
  command -v "$tool" >/dev/null || {
    echo "cluster:up: '$tool' is not on PATH; it is needed to make certificates, choose ports and talk to the API server (apt-get install openssl curl jq util-linux; node comes with npm)" >&2
    exit 2
  }
done

if ! bin="$(bash "$_repo_root/tools/engine/bin.sh" 2>/dev/null)"; then
  echo "cluster:up: the engine is not built (no complete folder under $ENGINE_CACHE/engine for the pins of tools/engine/versions.json); run npm run engine:build" >&2
  exit 2
fi
for c in "${CLUSTER_COMPONENTS[@]}"; do
  [ -x "$bin/$c" ] || {
    echo "cluster:up: $bin/$c is missing or not executable; run npm run engine:build" >&2
    exit 2
  }
done
kwok_module="$ENGINE_CACHE/go/mod/sigs.k8s.io/kwok@v0.8.0"
[ -d "$kwok_module/kustomize/stage" ] || {
  echo "cluster:up: kwok's Stages are not in the module cache ($kwok_module/kustomize/stage); run npm run engine:build" >&2
  exit 2
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
    exit 2
  fi
  if cluster_any_alive; then
    echo "cluster:up: a cluster in $CLUSTER_DIR is not healthy; stopping what is left of it"
    cluster_stop_all || {
      echo "cluster:up: could not stop the processes above; stop them by pid and run again" >&2
      exit 4
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
read -r ETCD_PORT ETCD_PEER_PORT APISERVER_PORT KCM_PORT SCHEDULER_PORT KWOK_PORT < <(
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
)
[ -n "${KWOK_PORT:-}" ] || { echo "cluster:up: could not choose free ports on 127.0.0.1 (node could not listen)" >&2; exit 4; }
cat >"$CLUSTER_DIR/ports.env" <<EOF
ETCD_PORT=$ETCD_PORT
ETCD_PEER_PORT=$ETCD_PEER_PORT
APISERVER_PORT=$APISERVER_PORT
KCM_PORT=$KCM_PORT
SCHEDULER_PORT=$SCHEDULER_PORT
KWOK_PORT=$KWOK_PORT
EOF

# --- certificates -------------------------------------------------------------------------------
t0=$EPOCHREALTIME
ossl() { openssl "$@" 2>>"$CLUSTER_DIR/logs/openssl.log" >/dev/null; }
{
  ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -subj "/CN=env-progression-local-ca" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$pki/ca.key" -out "$pki/ca.crt"
  # sign NAME SUBJECT EXTENSIONS: a leaf certificate for NAME, signed by the CA.
  sign() {
    ossl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "$2" \
      -keyout "$pki/$1.key" -out "$pki/$1.csr"
    ossl x509 -req -in "$pki/$1.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
      -days 3650 -out "$pki/$1.crt" -extfile <(printf '%s\n' "$3")
    rm -f "$pki/$1.csr"
  }
  # 10.96.0.1 is the kubernetes Service's address in the service range below.
  sign apiserver "/CN=kube-apiserver" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  # system:masters is bound to cluster-admin: the one client every component and test uses.
  sign admin "/O=system:masters/CN=env-progression-admin" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"
  # The key pair that signs and verifies service-account tokens.
  ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$pki/sa.key"
  ossl pkey -in "$pki/sa.key" -pubout -out "$pki/sa.pub"
} || {
  echo "cluster:up: openssl failed to make the certificates in $pki; its output:" >&2
  tail -n 20 "$CLUSTER_DIR/logs/openssl.log" >&2
  exit 4
}
chmod 600 "$pki"/*.key
printf '  %-24s made in %ss\n' certificates "$(elapsed_since "$t0")"

b64() { base64 -w0 <"$1"; }
kubeconfig="$CLUSTER_DIR/kubeconfig"
cat >"$kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: $CLUSTER_CONTEXT
  cluster:
    server: https://127.0.0.1:$APISERVER_PORT
    certificate-authority-data: $(b64 "$pki/ca.crt")
users:
- name: $CLUSTER_CONTEXT
  user:
    client-certificate-data: $(b64 "$pki/admin.crt")
    client-key-data: $(b64 "$pki/admin.key")
contexts:
- name: $CLUSTER_CONTEXT
  context:
    cluster: $CLUSTER_CONTEXT
    user: $CLUSTER_CONTEXT
current-context: $CLUSTER_CONTEXT
EOF
chmod 600 "$kubeconfig"

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
  [ -f "$f" ] || { echo "cluster:up: kwok Stage file $f is missing; run npm run engine:build" >&2; exit 2; }
  cat "$f"
  printf '\n---\n'
done >"$CLUSTER_DIR/kwok.yaml"

# --- starting and waiting -------------------------------------------------------------------------
STARTED=()

# Interrupted half-way (Ctrl-C): leave no half-started cluster running.
interrupted() {
  trap - INT TERM
  echo "cluster:up: interrupted; stopping what was started" >&2
  [ "${#STARTED[@]}" -eq 0 ] || cluster_stop_all >&2 || true
  exit 130
}
trap interrupted INT TERM

# Stops what this run started, prints the end of the failing component's log, exits 4.
fail() { # component message
  local log
  log="$(cluster_log_file "$1")"
  echo "cluster:up: $1 failed to start: $2" >&2
  if [ -s "$log" ]; then
    echo "--- last lines of $log:" >&2
    tail -n 25 "$log" >&2
    echo "---" >&2
  fi
  if [ "${#STARTED[@]}" -gt 0 ]; then
    echo "cluster:up: stopping what was started; the logs stay in $CLUSTER_DIR/logs until the next up" >&2
    cluster_stop_all >&2 || true
  fi
  exit 4
}

# Polls CHECK until it succeeds, the component's process dies, or TIMEOUT seconds pass.
exec_pending() { # component: its pid is alive and has not exec'd the component's binary yet
  local pid
  pid="$(cat "$(cluster_pid_file "$1")" 2>/dev/null)" || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] && pid_alive "$pid" || return 1
  case "$(readlink "/proc/$pid/exe" 2>/dev/null)" in
    */bash | */setsid) return 0 ;;
    *) return 1 ;;
  esac
}

wait_ready() { # component timeout check...
  local c="$1" timeout="$2" t_start=$EPOCHREALTIME pid
  shift 2
  while :; do
    # Between the fork and the exec, the pid is still the shell's (or setsid's): under load that
    # window is long enough to be seen, and it is not an exit. Only a pid that is gone, or that
    # runs something else than this shell, setsid or the component, has exited.
    if [ "$c" != - ] && ! pid="$(cluster_live_pid "$c")" && ! exec_pending "$c"; then
      fail "$c" "the process exited"
    fi
    "$@" >/dev/null 2>&1 && return 0
    if awk -v a="$t_start" -v b="$EPOCHREALTIME" -v t="$timeout" 'BEGIN { exit !(b - a > t) }'; then
      return 1
    fi
    sleep 0.2
  done
}

start() { # component timeout check -- args...
  local c="$1" timeout="$2" check="$3" t0=$EPOCHREALTIME
  shift 4
  # setsid: its own session, so that the shell's exit or a Ctrl-C in it does not reach it; no
  # terminal, stdin from /dev/null, the lock descriptor closed.
  setsid "$bin/$c" "$@" >"$(cluster_log_file "$c")" 2>&1 </dev/null 9<&- &
  echo "$!" >"$(cluster_pid_file "$c")"
  # Not this shell's job any more: no "Killed" notice from bash if it dies while we wait.
  disown "$!"
  STARTED+=("$c")
  wait_ready "$c" "$timeout" "$check" ||
    fail "$c" "not healthy after ${timeout}s (check: $check)"
  printf '  %-24s started in %ss (127.0.0.1:%s)\n' "$c" "$(elapsed_since "$t0")" "$(port_of "$c")"
}

port_of() {
  case "$1" in
    etcd) echo "$ETCD_PORT" ;; kube-apiserver) echo "$APISERVER_PORT" ;;
    kube-controller-manager) echo "$KCM_PORT" ;; kube-scheduler) echo "$SCHEDULER_PORT" ;;
    kwok) echo "$KWOK_PORT" ;;
  esac
}

etcd_healthy() { curl -sf --max-time 2 "http://127.0.0.1:$ETCD_PORT/health" | grep -q '"health":"true"'; }
apiserver_ready() { [ "$(cluster_api /readyz)" = ok ]; }
# The controllers serve their own TLS with a self-signed certificate: -k is for that alone.
secure_healthz() { [ "$(curl -sk --max-time 2 "https://127.0.0.1:$1/healthz")" = ok ]; }
kcm_healthy() { secure_healthz "$KCM_PORT"; }
scheduler_healthy() { secure_healthz "$SCHEDULER_PORT"; }
kwok_healthy() { [ "$(curl -s --max-time 2 "http://127.0.0.1:$KWOK_PORT/healthz")" = ok ]; }

# POSTs a YAML manifest; fails naming the object and the API server's answer unless created.
api_create() { # what path (manifest on stdin)
  local out code
  out="$(mktemp)"
  code="$(cluster_api -o "$out" -w '%{http_code}' -X POST -H 'Content-Type: application/yaml' \
    --data-binary @- "$2")" || code=000
  if [ "$code" != 201 ]; then
    echo "cluster:up: creating $1 failed (HTTP $code): $(jq -r '.message? // .' <"$out" 2>/dev/null || cat "$out")" >&2
    rm -f "$out"
    return 1
  fi
  rm -f "$out"
}

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

# The one Node kwok plays. kwok manages only Nodes carrying this annotation, so that it can never
# take over a real node should the kubeconfig point elsewhere.
t0=$EPOCHREALTIME
api_create "Node $NODE_NAME" /api/v1/nodes <<EOF || fail kube-apiserver "the Node for kwok to manage could not be created"
apiVersion: v1
kind: Node
metadata:
  name: $NODE_NAME
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/arch: amd64
    kubernetes.io/hostname: $NODE_NAME
    kubernetes.io/os: linux
    type: kwok
EOF

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

node_ready() {
  cluster_api "/api/v1/nodes/$NODE_NAME" |
    jq -e '.status.conditions[]? | select(.type == "Ready") | .status == "True"' | grep -q true
}
t0=$EPOCHREALTIME
wait_ready kwok 60 node_ready || fail kwok "Node $NODE_NAME did not become Ready within 60s"
printf '  %-24s Ready in %ss\n' "node $NODE_NAME" "$(elapsed_since "$t0")"

default_sa() { cluster_api -f /api/v1/namespaces/default/serviceaccounts/default; }
t0=$EPOCHREALTIME
wait_ready kube-controller-manager 60 default_sa ||
  fail kube-controller-manager "namespace default got no ServiceAccount default within 60s"
printf '  %-24s created in %ss\n' "serviceaccount default" "$(elapsed_since "$t0")"

# --- what the stacks expect of a cluster -------------------------------------------------------
t0=$EPOCHREALTIME
# The class the stacks' Ingresses name; stages.yaml fills their status as ingress-nginx would.
api_create "IngressClass nginx" /apis/networking.k8s.io/v1/ingressclasses <<EOF || fail kube-apiserver "IngressClass nginx could not be created"
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: nginx
spec:
  controller: k8s.io/ingress-nginx
EOF

# Volumes for the databases' claims, which name no StorageClass (and there is no default one, so
# they stay class-less and bind to class-less volumes). Three per size the stacks ask for (dev
# 1Gi, staging 5Gi, prod 50Gi), so a test's claim and a stack's can be bound at once. Retain, and
# recycled by stages.yaml once released. hostPath: nothing ever mounts them, since no kubelet runs.
pv_count=0
for size in 1Gi 5Gi 50Gi; do
  for n in 1 2 3; do
    name="local-$(echo "$size" | tr '[:upper:]' '[:lower:]')-$n"
    mkdir -p "$CLUSTER_DIR/volumes/$name"
    api_create "PersistentVolume $name" /api/v1/persistentvolumes <<EOF || fail kube-apiserver "PersistentVolume $name could not be created"
apiVersion: v1
kind: PersistentVolume
metadata:
  name: $name
  labels:
    env-progression.local/reusable: "true"
spec:
  capacity:
    storage: $size
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: ""
  volumeMode: Filesystem
  hostPath:
    path: $CLUSTER_DIR/volumes/$name
    type: DirectoryOrCreate
EOF
    pv_count=$((pv_count + 1))
  done
done
printf '  %-24s created in %ss (ingressclass nginx, %s persistentvolumes)\n' "cluster objects" "$(elapsed_since "$t0")" "$pv_count"

: >"$CLUSTER_READY_MARK"
echo "cluster:up: running in $(elapsed_since "$t_total")s; API server https://127.0.0.1:$APISERVER_PORT, state $CLUSTER_DIR"
echo "  kubeconfig $kubeconfig (context $CLUSTER_CONTEXT); stop with npm run cluster:down"
