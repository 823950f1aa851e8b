# shellcheck shell=bash disable=SC2034  # (its variables are read by the scripts that source it)
# Shared by up.sh, down.sh and kubeconfig.sh (sourced, never run): where the cluster's state
# lives, which processes it owns, and how to tell whether it is up.

_cluster_here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
_repo_root="$(cd "$_cluster_here/../.." && pwd)"
# shellcheck source=tools/engine/paths.sh
. "$_repo_root/tools/engine/paths.sh"

CLUSTER_DIR="${ENV_PROGRESSION_CLUSTER_DIR:-$ENGINE_CACHE/cluster}"
CLUSTER_CONTEXT=env-progression-local
# Started in this order, stopped in the reverse one (kwok and the controllers first, etcd last),
# so that no component spends its last seconds failing to reach one already gone.
CLUSTER_COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

# A marker that up.sh writes last: without it the state dir is a start that never finished.
CLUSTER_READY_MARK="$CLUSTER_DIR/ready"

# Alive means running: a zombie (exited, not yet reaped by whoever adopted it) is not.
pid_alive() { # pid
  local state
  state="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" || return 1
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# Seconds since a start taken from $EPOCHREALTIME, with one decimal (for the progress lines).
elapsed_since() { # start
  awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'
}

cluster_pid_file() { printf '%s/pids/%s.pid\n' "$CLUSTER_DIR" "$1"; }
cluster_log_file() { printf '%s/logs/%s.log\n' "$CLUSTER_DIR" "$1"; }

# The state of a component's process, from one look at its pid: "running PID" (it is the binary
# we started), "starting PID" (forked and not yet exec'd: still the shell or setsid; under load that
# window is long enough to be seen) or "gone" (exited, a zombie, or a recycled pid that belongs to
# someone else and must never be signalled). One readlink decides: two looks, one for "is it the
# component" and one for "is it still the shell", can both miss when the exec falls between them
# (it did, on a loaded machine: "etcd failed to start: the process exited" while etcd ran).
cluster_pid_state() { # component
  local pid exe
  pid="$(cat "$(cluster_pid_file "$1")" 2>/dev/null)" || { echo gone; return; }
  if ! [[ "$pid" =~ ^[0-9]+$ ]] || ! pid_alive "$pid"; then
    echo gone
    return
  fi
  # A zombie or an exited process has no exe link left.
  exe="$(readlink "/proc/$pid/exe" 2>/dev/null || true)"
  case "$exe" in
    */"$1" | */"$1 (deleted)") echo "running $pid" ;;
    */bash | */setsid) echo "starting $pid" ;;
    *) echo gone ;;
  esac
}

# The pid recorded for a component, if that process is alive and still the binary we started.
cluster_live_pid() { # component
  local state pid
  read -r state pid <<<"$(cluster_pid_state "$1")"
  [ "$state" = running ] || return 1
  printf '%s\n' "$pid"
}

# Loads the ports up.sh chose (ETCD_PORT, ETCD_PEER_PORT, APISERVER_PORT, ...).
cluster_load_ports() {
  [ -f "$CLUSTER_DIR/ports.env" ] || return 1
  # shellcheck disable=SC1091
  . "$CLUSTER_DIR/ports.env"
}

# curl against the API server with the admin client certificate.
cluster_api() { # curl args... (path last, e.g. /readyz)
  local path="${*: -1}"
  local args=("${@:1:$#-1}")
  curl -sS --max-time 10 \
    --cacert "$CLUSTER_DIR/pki/ca.crt" \
    --cert "$CLUSTER_DIR/pki/admin.crt" --key "$CLUSTER_DIR/pki/admin.key" \
    "${args[@]}" "https://127.0.0.1:${APISERVER_PORT}${path}"
}

# True when every component runs, the API server is ready and up.sh finished.
cluster_running() {
  [ -f "$CLUSTER_READY_MARK" ] || return 1
  cluster_all_alive || return 1
  cluster_load_ports || return 1
  [ "$(cluster_api /readyz 2>/dev/null)" = ok ]
}

# True when every component's process is alive (healthy or not).
cluster_all_alive() {
  local c
  for c in "${CLUSTER_COMPONENTS[@]}"; do
    cluster_live_pid "$c" >/dev/null || return 1
  done
}

# True when any component of ours is still alive (a stale or half-started cluster).
cluster_any_alive() {
  local c
  for c in "${CLUSTER_COMPONENTS[@]}"; do
    cluster_live_pid "$c" >/dev/null && return 0
  done
  return 1
}

# Stops every component that runs: TERM, then KILL after a grace period. Prints one line each.
# Returns 1 if a process survived even KILL.
cluster_stop_all() {
  local i c pid left=0 t0 waited stopped=()
  for ((i = ${#CLUSTER_COMPONENTS[@]} - 1; i >= 0; i--)); do
    c="${CLUSTER_COMPONENTS[$i]}"
    pid="$(cluster_live_pid "$c")" || continue
    t0=$EPOCHREALTIME
    kill -TERM "$pid" 2>/dev/null || true
    # Poll rather than sleep a fixed time: most components exit within a fraction of a second.
    # 5s: state is thrown away after a down, so a slow graceful shutdown protects nothing.
    for ((waited = 0; waited < 50; waited++)); do
      pid_alive "$pid" || break
      sleep 0.1
    done
    if pid_alive "$pid"; then
      kill -KILL "$pid" 2>/dev/null || true
      for ((waited = 0; waited < 50; waited++)); do
        pid_alive "$pid" || break
        sleep 0.1
      done
    fi
    if pid_alive "$pid"; then
      printf '  %-24s pid %s did not exit even after KILL\n' "$c" "$pid" >&2
      left=1
    else
      printf '  %-24s stopped in %ss (pid %s)\n' "$c" "$(elapsed_since "$t0")" "$pid"
      stopped+=("$pid")
    fi
  done
  # They exited, and whoever adopted them (init) reaps them in its own time; wait a little for
  # that, so that not even a zombie is left in ps.
  local reaped
  for ((waited = 0; waited < 50; waited++)); do
    reaped=1
    for pid in "${stopped[@]}"; do
      [ -e "/proc/$pid" ] && reaped=0
    done
    [ "$reaped" = 1 ] && break
    sleep 0.1
  done
  return "$left"
}
