#!/usr/bin/env bash
# Run the whole suite twice: on SQLite, then on PostgreSQL (TEST_DATABASE_URL, default: the
# local server at 127.0.0.1:5432, user postgres, database test). Browser tests use
# /usr/bin/chromium and fail, never skip, when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
PG_URL="${TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test}"
echo "== SQLite =="
env -u TEST_DATABASE_URL "$PYTHON" -m pytest "$@"
echo "== PostgreSQL ($PG_URL) =="
TEST_DATABASE_URL="$PG_URL" "$PYTHON" -m pytest "$@"
