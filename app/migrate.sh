#!/bin/sh
# Applies the SQL migrations in $MIGRATIONS_DIR to PostgreSQL, in lexical order, each once.
# Runs as a Kubernetes Job (postgres:17-alpine: POSIX sh and psql) before every rollout.
#
# Environment:
#   PGHOST PGPORT PGUSER PGDATABASE PGPASSWORD   libpq connection (PGPASSWORD from a Secret)
#   MIGRATIONS_DIR        where the *.sql files are mounted (required)
#   LOCK_TIMEOUT          e.g. 5s  (default 5s; 0 disables, which the policies refuse outside dev)
#   STATEMENT_TIMEOUT     e.g. 60s (default 60s)
#   DB_WAIT_TRIES         connection attempts before giving up (default 60)
#   DB_WAIT_INTERVAL      seconds between attempts (default 2)
#
# Why the lock_timeout: an ALTER TABLE needs an ACCESS EXCLUSIVE lock. Behind one long-running
# transaction it waits, and every query on that table then queues behind the waiting ALTER: at
# scale, the whole service stalls on a migration that has not even started. With a lock_timeout
# the migration gives up after a few seconds instead, the Job fails naming the file, the rollout
# does not start, and nothing is recorded, so the next run tries again.
#
# Each file runs in one transaction with its schema_migrations row, so it is applied and recorded
# together or not at all. A file whose first lines hold "-- migrate:no-transaction" runs statement
# by statement instead (CREATE INDEX CONCURRENTLY cannot run inside a transaction block) and is
# recorded only after all of it succeeded: such a file must be safe to run again (IF NOT EXISTS).
#
# stdout: one line per migration ("applied" / "already applied") and a summary.
# stderr: waiting, psql's own messages, and the failure naming the file. Exit 0, or 1 on the
# first failure (later files are not attempted).

set -u
# Lexical order of the glob below must not depend on the image's locale.
LC_ALL=C
export LC_ALL

say() { printf 'migrate: %s\n' "$*"; }
err() { printf 'migrate: %s\n' "$*" >&2; }
die() { err "$*"; exit 1; }

: "${MIGRATIONS_DIR:?migrate: MIGRATIONS_DIR is not set}"
LOCK_TIMEOUT=${LOCK_TIMEOUT:-5s}
STATEMENT_TIMEOUT=${STATEMENT_TIMEOUT:-60s}
DB_WAIT_TRIES=${DB_WAIT_TRIES:-60}
DB_WAIT_INTERVAL=${DB_WAIT_INTERVAL:-2}

is_duration() { printf '%s' "$1" | grep -Eq '^[0-9]+(us|ms|s|min|h|d)?$'; }
is_count() { printf '%s' "$1" | grep -Eq '^[0-9]+$'; }
is_duration "$LOCK_TIMEOUT" || die "LOCK_TIMEOUT must be a PostgreSQL duration such as 5s or 500ms, got '$LOCK_TIMEOUT'"
is_duration "$STATEMENT_TIMEOUT" || die "STATEMENT_TIMEOUT must be a PostgreSQL duration such as 60s, got '$STATEMENT_TIMEOUT'"
is_count "$DB_WAIT_TRIES" && [ "$DB_WAIT_TRIES" -ge 1 ] || die "DB_WAIT_TRIES must be a positive integer, got '$DB_WAIT_TRIES'"
is_count "$DB_WAIT_INTERVAL" || die "DB_WAIT_INTERVAL must be a whole number of seconds, got '$DB_WAIT_INTERVAL'"
[ -d "$MIGRATIONS_DIR" ] || die "MIGRATIONS_DIR '$MIGRATIONS_DIR' is not a directory"

# Every session below (the waits aside) runs with both timeouts, so no statement of ours can
# queue behind a lock for longer than LOCK_TIMEOUT.
PGOPTIONS="${PGOPTIONS:+$PGOPTIONS }-c lock_timeout=$LOCK_TIMEOUT -c statement_timeout=$STATEMENT_TIMEOUT"
PGAPPNAME=${PGAPPNAME:-env-progression-migrate}
export PGOPTIONS PGAPPNAME

# -X: no ~/.psqlrc; -q: no command tags. Query output goes to stderr so stdout stays one line
# per migration.
run_psql() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

# --- wait for the server -----------------------------------------------------------------------
# pg_isready (next to psql in every PostgreSQL image) tells "not up yet" from "up": a wrong
# password then fails at once below, with psql's message, instead of after DB_WAIT_TRIES tries.
ready() {
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -t 5
  else
    run_psql -tA -c 'SELECT 1' >/dev/null 2>&1
  fi
}
try=1
until ready; do
  if [ "$try" -ge "$DB_WAIT_TRIES" ]; then
    die "database ${PGHOST:-localhost}:${PGPORT:-5432} did not accept connections after $DB_WAIT_TRIES tries, $DB_WAIT_INTERVAL s apart; giving up"
  fi
  err "waiting for database ${PGHOST:-localhost}:${PGPORT:-5432} ($try/$DB_WAIT_TRIES)"
  try=$((try + 1))
  sleep "$DB_WAIT_INTERVAL"
done

# (client_min_messages: no "already exists, skipping" notice on every run but the first.)
PGOPTIONS="$PGOPTIONS -c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -c 'CREATE TABLE IF NOT EXISTS schema_migrations (
    version    text        PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
)' >&2 || die "cannot create schema_migrations (see psql's error above)"

# --- apply --------------------------------------------------------------------------------------
applied=0
skipped=0
found=0
for file in "$MIGRATIONS_DIR"/*.sql; do
  [ -e "$file" ] || continue
  found=$((found + 1))
  name=$(basename "$file")
  # The file name is the version and goes into SQL as a literal: allow only what needs no quoting.
  case "$name" in
    *[!A-Za-z0-9_.-]*) die "FAILED $name: migration file names may only contain letters, digits, '_', '.' and '-'" ;;
  esac

  state=$(run_psql -tA -c "SELECT 1 FROM schema_migrations WHERE version = '$name'") ||
    die "FAILED $name: cannot read schema_migrations (see psql's error above)"
  if [ "$state" = "1" ]; then
    say "already applied $name"
    skipped=$((skipped + 1))
    continue
  fi

  record="INSERT INTO schema_migrations (version) VALUES ('$name')"
  if sed -n '1,5p' "$file" | grep -Eq '^--[[:space:]]*migrate:no-transaction[[:space:]]*$'; then
    run_psql -f "$file" >&2 ||
      die "FAILED $name (psql exit $?; not recorded; it runs outside a transaction, so statements before the failing one stay applied and must be safe to re-run)"
    run_psql -c "$record" >&2 ||
      die "FAILED $name: applied, but recording it in schema_migrations failed (see psql's error above)"
  else
    # BEGIN; <file>; INSERT ...; COMMIT; -- and ROLLBACK if anything fails (ON_ERROR_STOP).
    run_psql --single-transaction -f "$file" -c "$record" >&2 ||
      die "FAILED $name (psql exit $?; rolled back, not recorded)"
  fi
  say "applied $name"
  applied=$((applied + 1))
done

[ "$found" -gt 0 ] || die "no *.sql files in MIGRATIONS_DIR '$MIGRATIONS_DIR' (is the ConfigMap mounted?)"
say "done: $applied applied, $skipped already applied"
