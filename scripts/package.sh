#!/usr/bin/env bash
# Builds the release package a DBA installs: the .so, .control and SQL files,
# laid out under target/release/chronicle-pg15/ as they go on the server.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
cargo pgrx package -p chronicle --pg-config "$PG_CONFIG" >"$STATE/package.log" 2>&1 \
    || { tail -30 "$STATE/package.log" >&2; die "cargo pgrx package failed"; }
out="$ROOT/target/release/chronicle-pg15"
install_sql_scripts "$out$("$PG_CONFIG" --sharedir)/extension"
log "package in $out:"
(cd "$out" && find . -type f | sort)
