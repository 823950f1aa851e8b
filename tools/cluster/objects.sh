# shellcheck shell=bash
# Sourced by up.sh (never run): the objects the cluster is given through its API server, the Node
# kwok plays and what the stacks expect of a cluster (the IngressClass nginx, the databases'
# PersistentVolumes).

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

# The one Node kwok plays. kwok manages only Nodes carrying this annotation, so that it can never
# take over a real node should the kubeconfig point elsewhere.
cluster_create_node() {
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
}

# What the stacks expect of a cluster, with one progress line.
cluster_create_stack_objects() {
  local t0 pv_count size n name
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
}
