# The argument handling every script of tools/cluster and tools/engine shares: they take only
# --help, so it is written once here. Sourced; the script defines usage() first.
#
#   . "$(dirname "${BASH_SOURCE[0]}")/../lib/help.sh"
#   help_only cluster:up "$@"
#
# --help (or -h) prints usage and exits 0; anything else is bad usage, exit 2, named on stderr
# with the npm script's name, as every command's exit-code table says.
help_only() {
  local name="$1"
  shift
  case "${1:-}" in
    -h | --help) usage; exit 0 ;;
    "") ;;
    *) echo "$name: unknown argument '$1'; it takes only --help" >&2; exit 2 ;;
  esac
}
