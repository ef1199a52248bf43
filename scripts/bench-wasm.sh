#!/usr/bin/env bash
# The wasm benchmark: folds of 100k and 1M events in the wasm module (node
# and Chromium) against the native core in the same run (goal: <= 1.5x), and
# the dashboard's time to first state (goal < 1 s) and per slider move (goal
# < 16 ms) on the 100,000-event stream. See bench/wasm.mjs.
source "$(dirname "$0")/lib.sh"

PORT="${BENCH_PORT:-54349}"
DASHBOARD_PORT="${BENCH_DASHBOARD_PORT:-54348}"
DB=chronicle_bench_wasm
install_extension
build_wasm
build_dashboard
log "building the native baseline (the fold example)"
(cd "$ROOT" && cargo build -q --release -p chronicle-core --example fold) || die "build failed"
cluster_start bench "$PORT"
recreate_db bench "$PORT" "$DB"
log "loading the dashboard's dataset"
cluster_psql bench "$PORT" "$DB" -o /dev/null -f "$ROOT/scripts/demo.sql" -f "$ROOT/scripts/demo_data.sql" >/dev/null
dir="$STATE/bench-wasm"
mkdir -p "$dir"
cluster_psql bench "$PORT" "$DB" -At -c "SELECT l FROM chronicle.export_stream('account-big') l" >"$dir/export-100k.ndjson"
# The dashboard reads as chronicle_dashboard (granted chronicle_reader only).
URL="postgresql://chronicle_dashboard@127.0.0.1:$PORT/$DB"
dashboard_start bench "$URL" "$DASHBOARD_PORT"
status=0
BENCH_EXPORT="$dir/export-100k.ndjson" BENCH_DIR="$dir" BENCH_FOLD="$ROOT/target/release/examples/fold" \
    BENCH_DASHBOARD_URL="http://127.0.0.1:$DASHBOARD_PORT/" node "$ROOT/bench/wasm.mjs" || status=$?
dashboard_stop bench
exit $status
