#!/usr/bin/env bash
# Builds the wasm module and the dashboard server, then runs the dashboard in
# the foreground against a database of your own:
#   ./chronicle dashboard --database postgresql://reader@db.example/app [--listen 127.0.0.1:8080]
source "$(dirname "$0")/lib.sh"
build_wasm
build_dashboard
exec "$DASHBOARD_BIN" --static "$ROOT/dashboard/static" --pkg "$WASM_OUT/web" --vendor "$ROOT/dashboard/node_modules" "$@"
