#!/usr/bin/env bash
# Run the whole suite twice, on SQLite and on PostgreSQL (TEST_DATABASE_URL, default: the
# local server at 127.0.0.1:5432, user postgres, database test), both at once: each run is
# mostly one busy process, and a machine has two cores or more. Each run writes to its own
# log, shown when both have finished; the exit status is non-zero if either failed. Browser
# tests use /usr/bin/chromium and fail, never skip, when it is missing.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
PG_URL="${TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test}"
LOGS="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$LOGS"' EXIT
env -u TEST_DATABASE_URL "$PYTHON" -m pytest -p no:cacheprovider "$@" >"$LOGS/sqlite" 2>&1 &
SQLITE_RUN=$!
TEST_DATABASE_URL="$PG_URL" "$PYTHON" -m pytest -p no:cacheprovider "$@" >"$LOGS/postgresql" 2>&1 &
POSTGRESQL_RUN=$!
wait "$SQLITE_RUN"
SQLITE_STATUS=$?
wait "$POSTGRESQL_RUN"
POSTGRESQL_STATUS=$?
echo "== SQLite =="
cat "$LOGS/sqlite"
echo "== PostgreSQL ($PG_URL) =="
cat "$LOGS/postgresql"
exit $((SQLITE_STATUS || POSTGRESQL_STATUS))
