# What every script of tools/cluster and tools/engine shares with the TypeScript commands: the
# exit-code table of model/cli.ts (EXIT, EXIT_CODES_HELP), and the argument handling of a script
# that takes only --help. Sourced; the script defines usage() first and ends it with
# exit_codes_help:
#
#   . "$(dirname "${BASH_SOURCE[0]}")/../lib/help.sh"
#   help_only cluster:up "$@"
#
# The table is model/cli.ts's, copied: a script's --help must work with whatever Node is on PATH,
# and the system's Node 20 cannot load TypeScript. test/tools/shellHelp.test.ts holds the copy to
# the original, and checks that every script ends its --help with it.

# shellcheck disable=SC2034 # used by the scripts that source this file
EXIT_OK=0 EXIT_FAILED=1 EXIT_USAGE=2 EXIT_PREREQUISITE=3 EXIT_INTERNAL=70

exit_codes_help() {
  cat <<'TABLE'
Exit codes (the same for every command):
  0   ok: every check passed, every step done
  1   failed: a check, a mandatory policy or a step failed (promote rolls a smoke failure back)
  2   bad usage or bad input (a flag, a stack file); nothing was run
  3   a prerequisite is missing (a tool, the built engine, a passphrase); nothing was run
  4   prod was not approved (promote, local)
  70  internal error: the command itself failed; no verdict
TABLE
}

# -h or --help prints usage and exits 0; anything else is bad usage (exit 2), named on stderr with
# the npm script's name. From here on, a command that fails where the script did not expect it
# (set -e would stop there with that command's own status, which could read as a verdict) stops
# the script with exit 70 and one line naming the command, its file and about where (in a pipeline,
# bash names its last command).
help_only() {
  local name="$1"
  shift
  case "${1:-}" in
    -h | --help) usage; exit "$EXIT_OK" ;;
    "") ;;
    *) echo "$name: unknown argument '$1'; it takes only --help (see --help)" >&2; exit "$EXIT_USAGE" ;;
  esac
  set -E
  # shellcheck disable=SC2064 # $name is fixed now; the rest is read when the trap runs
  trap "internal_error '$name' \"\$?\" \"\$LINENO\" \"\$BASH_COMMAND\"" ERR
}

internal_error() { # name status line command
  trap - ERR
  # Exit 70 from a command is a failure said already: by this trap inside a $(...), whose command
  # then fails in its turn, or by a script of ours. So there is one line, from where it began.
  [ "$2" -ne "$EXIT_INTERNAL" ] || exit "$EXIT_INTERNAL"
  local command="${4%%$'\n'*}"
  [ "$command" = "$4" ] || command="$command ..."
  [ "${#command}" -le 120 ] || command="${command:0:117}..."
  echo "$1: internal error: '$command' exited $2 (${BASH_SOURCE[1]#"$_help_root/"}, near line $3)" >&2
  exit "$EXIT_INTERNAL"
}

# The repository root, to name a script's file by its path in the repository.
_help_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
