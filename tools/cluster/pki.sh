# shellcheck shell=bash
# Sourced by up.sh (never run): the certificates, keys and kubeconfig of the local cluster, made
# in its state dir (pki/ and kubeconfig).

ossl() { openssl "$@" 2>>"$CLUSTER_DIR/logs/openssl.log" >/dev/null; }

# The CA, the API server's serving certificate, the admin client certificate and the
# service-account key pair, into $pki. Its status is that of the last openssl command, as up.sh's
# caller reads it (`cluster_make_pki || ...`).
cluster_make_pki() {
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
  # 10.96.0.1 is the kubernetes Service's address in up.sh's SERVICE_RANGE.
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
}

b64() { base64 -w0 <"$1"; }

# The kubeconfig at $kubeconfig: one cluster, one user (the admin certificate), one context.
cluster_write_kubeconfig() {
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
}
