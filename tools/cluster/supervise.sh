# shellcheck shell=bash
# Sourced by up.sh (never run): how a component is started (its own session, its pid and log in
# the state dir), how up.sh waits until it is healthy, and what a failed or interrupted start
# leaves (nothing running: what this run started is stopped).

# The exit codes it ends with (up.sh has sourced it already; this keeps the file whole alone).
# shellcheck source=tools/lib/help.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/help.sh"

# The components this run started, in order.
STARTED=()

# Interrupted half-way (Ctrl-C): leave no half-started cluster running.
interrupted() {
  trap - INT TERM
  echo "cluster:up: interrupted; stopping what was started" >&2
  [ "${#STARTED[@]}" -eq 0 ] || cluster_stop_all >&2 || true
  exit 130
}

# Stops what this run started, prints the end of the failing component's log, exits 1 (failed).
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
  exit "$EXIT_FAILED"
}

# Polls CHECK until it succeeds, the component's process dies, or TIMEOUT seconds pass.
wait_ready() { # component timeout check...
  local c="$1" timeout="$2" t_start=$EPOCHREALTIME
  shift 2
  while :; do
    # Only a pid that is gone, or that runs something else than this shell, setsid or the
    # component, has exited; one still between its fork and its exec has not.
    if [ "$c" != - ] && [ "$(cluster_pid_state "$c")" = gone ]; then
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

node_ready() {
  cluster_api "/api/v1/nodes/$NODE_NAME" |
    jq -e '.status.conditions[]? | select(.type == "Ready") | .status == "True"' | grep -q true
}
default_sa() { cluster_api -f /api/v1/namespaces/default/serviceaccounts/default; }
