# Where the engine's binaries live, shared by build.sh and bin.sh (sourced, never run).
# Bump ENGINE_RECIPE when build.sh changes how a binary is built, so the cache is rebuilt.
ENGINE_RECIPE=1
_engine_here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ENGINE_CACHE="${ENV_PROGRESSION_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/env-progression}"
# Go's own installer puts it in /usr/local/go, which not every shell has on PATH.
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then PATH="/usr/local/go/bin:$PATH"; fi

# The folder of one pinned toolchain: a hash of the pins, the wrapper modules, the recipe and Go.
engine_bin_dir() {
  local key
  key="$(
    {
      echo "recipe $ENGINE_RECIPE"
      go env GOVERSION GOOS GOARCH 2>/dev/null || echo "no go"
      cat "$_engine_here/versions.json"
      (cd "$_engine_here/go" && find . -type f | LC_ALL=C sort | xargs sha256sum)
    } | sha256sum | cut -c1-16
  )"
  printf '%s/engine/bin-%s\n' "$ENGINE_CACHE" "$key"
}

# The pins, one binary a line, with the fields asked for ("-" for an empty one). Only the last
# field may hold spaces (the ldflags), so that `read` gives it the rest of the line.
engine_pins() {
  node -e '
    const [file, ...fields] = process.argv.slice(1);
    const { binaries } = JSON.parse(require("node:fs").readFileSync(file, "utf8"));
    for (const b of binaries) {
      const row = { ...b, release: b.release ?? b.version };
      console.log(fields.map((f) => row[f] || "-").join(" "));
    }' "$_engine_here/versions.json" "$@"
}
