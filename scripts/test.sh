#!/usr/bin/env bash
# The project's test command. On its own it sets up everything the tests need (PostgreSQL, the
# Python virtualenv and the npm packages, both pinned), builds once and runs every suite on
# SQLite and PostgreSQL. Under CI=true an unreachable PostgreSQL fails the run; elsewhere its
# legs are skipped with a loud message.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PG_URL=${WECOMD_TEST_PG:-postgres://postgres@127.0.0.1:5432/postgres}
export WECOMD_TEST_PG=$PG_URL
step() { printf '\n== %s\n' "$*"; }

step "PostgreSQL at $PG_URL"
pg_up() { command -v pg_isready >/dev/null && pg_isready -h 127.0.0.1 -p 5432 -q; }
if ! pg_up && command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    for _ in $(seq 1 30); do pg_up && break; sleep 1; done
fi
if pg_up; then
    PG=1
    # Databases left by interrupted runs: those nobody is connected to (another run's live ones stay).
    for db in $(psql "$PG_URL" -Atc "SELECT datname FROM pg_database d WHERE datname LIKE 'wecomd_t%'
            AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datname = d.datname)"); do
        psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $db" || echo "kept $db (in use)"
    done
elif [ "${CI:-}" = true ]; then
    echo "PostgreSQL is unreachable and CI=true: failing." >&2
    exit 1
else
    PG=0
    echo "!!! PostgreSQL is unreachable: the PostgreSQL legs are SKIPPED !!!" >&2
fi

step "Build"
cargo build --locked --workspace --bins --tests
TARGET=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
export WECOMD_BIN=$TARGET/debug/wecomd

# Before cargo test: wecom-crypto's interop test runs wechatpy from .venv and @wecom/crypto from
# node_modules.
step "Python virtualenv (.venv) with pinned packages"
if [ ! -x .venv/bin/python ]; then python3 -m venv .venv; fi
.venv/bin/pip install --quiet --disable-pip-version-check -r tests/python/requirements.txt

step "npm packages (node_modules) from package-lock.json"
npm ci --no-audit --no-fund

step "Rust: unit tests and HTTP tests (SQLite and PostgreSQL)"
cargo test --locked --workspace

step "wechatpy 1.8.18 against wecomd on SQLite"
WECOMD_TEST_BACKEND=sqlite .venv/bin/python -m pytest -q tests/python
if [ "$PG" = 1 ]; then
    step "wechatpy 1.8.18 against wecomd on PostgreSQL"
    WECOMD_TEST_BACKEND=postgres .venv/bin/python -m pytest -q tests/python
fi
echo "all suites passed ($ROOT)"
