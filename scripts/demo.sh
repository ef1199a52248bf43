#!/usr/bin/env bash
# Builds and installs the extension, starts a private Postgres with it, runs
# the seeds' Order example and prints how to connect. The server keeps
# running; `./chronicle stop` stops it.
source "$(dirname "$0")/lib.sh"

PORT="${DEMO_PORT:-54329}"
DB=chronicle_demo
install_extension
cluster_start demo "$PORT"
recreate_db demo "$PORT" "$DB"
cluster_psql demo "$PORT" "$DB" -f "$ROOT/scripts/demo.sql"

cat <<INFO

Chronicle is running (Postgres 15, extension chronicle $(cluster_psql demo "$PORT" "$DB" -Atc "SELECT extversion FROM pg_extension WHERE extname = 'chronicle'")).
  connect:  psql "postgresql://postgres@127.0.0.1:$PORT/$DB"
       or:  ./chronicle psql
  server log: $(cluster_dir demo)/server.log
  stop:     ./chronicle stop
INFO
