#!/usr/bin/env bash
# Builds and installs the extension, starts a private Postgres with it (the
# newest major, or the one given with --pg), runs
# the Order example (scripts/demo.sql), loads a larger dataset (scripts/demo_data.sql),
# starts the time-travel dashboard and prints its URL and how to connect.
# The servers keep running; `./chronicle stop` stops them.
source "$(dirname "$0")/lib.sh"

PORT="${DEMO_PORT:-54329}"
DASHBOARD_PORT="${DASHBOARD_PORT:-54330}"
DB=chronicle_demo
install_extension
build_wasm
build_dashboard
cluster_start demo "$PORT"
recreate_db demo "$PORT" "$DB"
cluster_psql demo "$PORT" "$DB" -f "$ROOT/scripts/demo.sql"
log "loading the dashboard's dataset (scripts/demo_data.sql: 7 stream types, a 100,000-event stream)"
cluster_psql demo "$PORT" "$DB" -o /dev/null -f "$ROOT/scripts/demo_data.sql"
# The dashboard reads as chronicle_dashboard (granted chronicle_reader only).
URL="postgresql://chronicle_dashboard@127.0.0.1:$PORT/$DB"
dashboard_start demo "$URL" "$DASHBOARD_PORT"

cat <<INFO

Chronicle is running (PostgreSQL $("$PGBIN/postgres" --version | awk '{print $NF}'), extension chronicle $(cluster_psql demo "$PORT" "$DB" -Atc "SELECT extversion FROM pg_extension WHERE extname = 'chronicle'")).
  dashboard: http://127.0.0.1:$DASHBOARD_PORT/#stream=order-001
             (try account-big: 100,000 events; counter-1: a failing step;
              order-002: a correlation across three streams)
  connect:   psql "postgresql://postgres@127.0.0.1:$PORT/$DB"
        or:  ./chronicle psql
  logs:      $(cluster_dir demo)/server.log, $STATE/dashboard-demo.log
  stop:      ./chronicle stop
INFO
