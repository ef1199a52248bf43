#!/usr/bin/env bash
# The eventsourcing benchmark: an eventsourcing application (pinned in
# tests/clients/python/requirements.txt) writing 1-event and 10-event
# transactions from 8 threads, on Chronicle (chronicle_eventstore.eventsourcing)
# and on eventsourcing's own PostgreSQL persistence module, in the same
# server, alternating, twice each: events per second and the ratio
# (bench/eventsourcing_app.py says what a transaction is).
#
# BENCH_SECONDS (default 8) and BENCH_THREADS (default 8) override.
source "$(dirname "$0")/lib.sh"

PORT="${BENCH_PORT:-54349}"
install_extension
"$VENV/bin/pip" install -q --disable-pip-version-check --no-deps --force-reinstall "$ROOT/clients/python"
cluster_reset bench
cluster_start bench "$PORT"
"$VENV/bin/python" "$ROOT/bench/eventsourcing_app.py" "$(cluster_dir bench)" "$PORT" \
    "${BENCH_SECONDS:-8}" "${BENCH_THREADS:-8}"
cluster_stop bench
