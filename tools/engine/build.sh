#!/usr/bin/env bash
# Builds the real engine (pulumi CLI, Node language host, Kubernetes provider) and the local
# control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok) from source
# through the Go module proxy, into a cache outside the repository keyed by their pins.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: npm run engine:build [-- --help]

Builds the pinned binaries of tools/engine/versions.json from source, through the Go module
proxy, into a cache outside the repository, and reuses the cache when it is there.

Options:
  --help, -h   show this help

Environment:
  ENV_PROGRESSION_CACHE   the cache folder (default: $XDG_CACHE_HOME/env-progression,
                          else ~/.cache/env-progression)
  GOPROXY                 the Go module proxy, as Go reads it

Prints one line per binary, with its time. `npm run engine:bin` prints the folder that holds them.

It exits 0 when every binary is built or cached; 1 when a module could not be had or a build
failed (the line names it, and the log's path); 2 when a wrapper module's go.mod disagrees with
tools/engine/versions.json; 3 when Go 1.26 or later is not on PATH.

EOF
  exit_codes_help
}

# shellcheck source=tools/lib/help.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/help.sh"
help_only engine:build "$@"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tools/engine/paths.sh
. "$here/paths.sh"

command -v node >/dev/null || {
  echo "engine:build: 'node' is not on PATH; it reads tools/engine/versions.json (run npm ci: npm run puts this project's Node first on PATH)" >&2
  exit "$EXIT_PREREQUISITE"
}
command -v go >/dev/null || {
  echo "engine:build: 'go' is not on PATH; install Go 1.26 or later (https://go.dev/doc/install)" >&2
  exit "$EXIT_PREREQUISITE"
}
gov="$(go env GOVERSION)"
if ! printf '%s\n' "$gov" | grep -Eq '^go1\.(2[6-9]|[3-9][0-9])'; then
  echo "engine:build: found $gov; the pinned modules need Go 1.26 or later" >&2
  exit "$EXIT_PREREQUISITE"
fi

# Every binary goes into one folder named by a hash of everything that decides its bytes: the pins,
# each wrapper module (go.mod, go.sum, sources), this recipe and the Go version.
bin="$(engine_bin_dir)"
# Read once, here, where a failure stops the script (one fed to a loop by <(...) would not).
pins="$(engine_pins name wrapper module version release package ldflags)"
if [ -f "$bin/.complete" ]; then
  while read -r name _ _ _ release _; do
    printf '  %-26s %-12s cached\n' "$name" "$release"
  done <<<"$pins"
  echo "engine: $bin"
  exit 0
fi

mkdir -p "$bin" "$ENGINE_CACHE/go/mod" "$ENGINE_CACHE/go/build" "$ENGINE_CACHE/src"
logs="$bin/.logs"
mkdir -p "$logs"
export GOMODCACHE="$ENGINE_CACHE/go/mod" GOCACHE="$ENGINE_CACHE/go/build"
# The committed go.sum files are the pins: nothing may change them during a build.
export GOFLAGS=-mod=readonly GOTOOLCHAIN=local CGO_ENABLED=0

# The wrapper's go.mod must require exactly the pinned version, so the two files cannot drift.
check_pin() { # wrapper module version
  local dir="$here/go/$1"
  # The provider is built as its own main module: its go.mod names it, the version is the zip's.
  if [ "$1" = kubernetes-provider ]; then
    grep -q "^module $2\$" "$dir/go.mod" && return 0
    echo "engine:build: tools/engine/go/$1/go.mod is not the go.mod of $2; copy it from $2@$3 and patch it as docs/engine.md says" >&2
    exit "$EXIT_USAGE"
  fi
  if ! grep -Eq "^[[:space:]]*(require[[:space:]]+)?$2 $3( |\$)" "$dir/go.mod"; then
    echo "engine:build: tools/engine/go/$1/go.mod does not require $2 $3 as tools/engine/versions.json pins it; run 'go get $2@$3' there" >&2
    exit "$EXIT_USAGE"
  fi
}

fail() { # name module version log
  local why
  why="$(grep -E '(^go: |: (module|reading|verifying|invalid|unknown revision|not found)|cannot find|missing go.sum)' "$4" | head -n 3 || true)"
  [ -n "$why" ] || why="$(tail -n 5 "$4")"
  echo "engine:build: could not build $1 from $2@$3:" >&2
  printf '%s\n' "$why" | sed 's/^/  /' >&2
  echo "  (full log: $4)" >&2
  exit "$EXIT_FAILED"
}

# The Kubernetes provider's command go:embeds files that its module zip lacks, and its go.mod
# points its SDK at ../sdk: build it in a writable copy whose go.mod/go.sum are ours, after its
# own generate step.
provider_source() { # module version release log
  local src="$ENGINE_CACHE/src/kubernetes-provider-$2"
  if [ ! -f "$src/.ready" ]; then
    local dir
    dir="$(cd "$ENGINE_CACHE" && GOFLAGS=-mod=mod go mod download -json "$1@$2" 2>>"$4" |
      sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')" || true
    [ -n "$dir" ] && [ -d "$dir" ] || return 1
    rm -rf "$src" && cp -r "$dir" "$src" && chmod -R u+w "$src"
    cp "$here/go/kubernetes-provider/go.mod" "$here/go/kubernetes-provider/go.sum" "$src/"
    (cd "$src/cmd/pulumi-resource-kubernetes" && VERSION="$3" go run generate.go) >>"$4" 2>&1 || return 1
    touch "$src/.ready"
  fi
  # Ours, every time: the copy is kept by module version, and these two may have changed since.
  cp "$here/go/kubernetes-provider/go.mod" "$here/go/kubernetes-provider/go.sum" "$src/"
  printf '%s\n' "$src"
}

# Every wrapper module agrees with its pin before anything is built (a disagreement is bad input).
while read -r _ wrapper module version _; do
  check_pin "$wrapper" "$module" "$version"
done <<<"$pins"

total_start=$SECONDS
while read -r name wrapper module version release pkg ldflags; do
  [ "$ldflags" = "-" ] && ldflags=""
  if [ -x "$bin/$name" ]; then
    printf '  %-26s %-12s cached\n' "$name" "${release:-$version}"
    continue
  fi
  log="$logs/$name.log"
  : >"$log"
  start=$SECONDS
  [ -t 1 ] && printf '  %-26s %-12s building...\r' "$name" "$release"
  dir="$here/go/$wrapper"
  if [ "$wrapper" = kubernetes-provider ]; then
    dir="$(provider_source "$module" "$version" "$release" "$log")" || fail "$name" "$module" "$version" "$log"
  fi
  (cd "$dir" && go build -trimpath -ldflags "-s -w $ldflags" -o "$bin/$name.tmp" "$pkg") >>"$log" 2>&1 ||
    fail "$name" "$module" "$version" "$log"
  mv "$bin/$name.tmp" "$bin/$name"
  took=$((SECONDS - start))
  printf '  %-26s %-12s built in %dm%02ds\n' "$name" "$release" $((took / 60)) $((took % 60))
done <<<"$pins"

touch "$bin/.complete"
took=$((SECONDS - total_start))
echo "engine: built in $((took / 60))m$(printf '%02d' $((took % 60)))s into $bin"
