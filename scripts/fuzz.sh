#!/usr/bin/env bash
# Fuzzes the core (chronicle-core) with cargo-fuzz / libFuzzer: every target
# in fuzz/ (or the ones named as arguments) for FUZZ_SECONDS seconds each
# (default 60), after replaying the inputs kept in fuzz/regressions/<target>/.
# Uses nightly if installed (else the stable toolchain with RUSTC_BOOTSTRAP=1);
# installs cargo-fuzz when it is missing. Ends with "RESULT passed=N failed=M"
# (one per target) for ./chronicle test.
#
#   ./chronicle fuzz                          # every target, 60 s each
#   FUZZ_SECONDS=600 ./chronicle fuzz replay  # one target, 10 minutes
#
# A crash leaves its input in fuzz/artifacts/<target>/ and fails the run;
# keep it in fuzz/regressions/<target>/ once fixed (see the README).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

SECONDS_EACH="${FUZZ_SECONDS:-60}"
RSS_LIMIT_MB="${FUZZ_RSS_LIMIT_MB:-2048}"
FUZZ="$ROOT/fuzz"
LOGS="$STATE/fuzz-logs"

# The toolchain: nightly when it is installed (cargo-fuzz's home); otherwise
# the machine's own, with RUSTC_BOOTSTRAP=1 so that it takes the unstable
# flags cargo-fuzz passes (the sanitizer). FUZZ_TOOLCHAIN=nightly or =stable
# chooses.
if [ "${FUZZ_TOOLCHAIN:-}" = nightly ] \
    || { [ "${FUZZ_TOOLCHAIN:-}" != stable ] && rustup run nightly rustc --version >/dev/null 2>&1; }; then
    if ! rustup run nightly rustc --version >/dev/null 2>&1; then
        log "installing the nightly toolchain"
        rustup toolchain install nightly --profile minimal
    fi
    CARGO=(cargo +nightly)
else
    CARGO=(cargo)
    export RUSTC_BOOTSTRAP=1
fi
if ! "${CARGO[@]}" fuzz --version >/dev/null 2>&1; then
    log "installing cargo-fuzz"
    cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked --quiet
fi

cd "$ROOT"
mapfile -t ALL < <("${CARGO[@]}" fuzz list)
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=("${ALL[@]}")
known() {
    local a
    for a in "${ALL[@]}"; do [ "$a" = "$1" ] && return 0; done
    return 1
}
for t in "${TARGETS[@]}"; do
    known "$t" || die "unknown fuzz target: $t (targets: ${ALL[*]})"
done

log "building the fuzz targets (${CARGO[*]}, release, debug assertions)"
"${CARGO[@]}" fuzz build
rm -rf "$LOGS" && mkdir -p "$LOGS"

FAILED=()
SUMMARY=()
for t in "${TARGETS[@]}"; do
    # The inputs that once crashed a target must pass before it fuzzes on.
    if compgen -G "$FUZZ/regressions/$t/*" >/dev/null; then
        log "$t: replaying fuzz/regressions/$t"
        if ! "${CARGO[@]}" fuzz run "$t" "$FUZZ"/regressions/"$t"/* >"$LOGS/$t-regressions.log" 2>&1; then
            tail -30 "$LOGS/$t-regressions.log" | sed 's/^/   | /'
            FAILED+=("$t (regressions)")
            continue
        fi
    fi
    log "$t: fuzzing for ${SECONDS_EACH}s"
    mkdir -p "$FUZZ/corpus/$t"
    status=0
    "${CARGO[@]}" fuzz run "$t" -- -max_total_time="$SECONDS_EACH" -rss_limit_mb="$RSS_LIMIT_MB" \
        -dict="$FUZZ/json.dict" -print_final_stats=1 >"$LOGS/$t.log" 2>&1 || status=$?
    # "#661889 DONE cov: 3052 ft: 12193 corp: 1192/198Kb ... exec/s: 10850 rss: 503Mb"
    done_line="$(grep -E '^#[0-9]+[[:space:]]+DONE' "$LOGS/$t.log" | tail -1 || true)"
    if [ "$status" -ne 0 ]; then
        FAILED+=("$t")
        printf '   FAILED; last lines of %s:\n' "$LOGS/$t.log"
        tail -40 "$LOGS/$t.log" | sed 's/^/   | /'
        SUMMARY+=("$(printf '%-22s FAILED (input in fuzz/artifacts/%s/)' "$t" "$t")")
    else
        runs="$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$done_line")"
        cov="$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$done_line")"
        ft="$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$done_line")"
        corp="$(sed -nE 's/.* corp: ([0-9]+)\/.*/\1/p' <<<"$done_line")"
        rate="$(sed -nE 's/.* exec\/s: ([0-9]+).*/\1/p' <<<"$done_line")"
        SUMMARY+=("$(printf '%-22s ok: %s runs in %ss (%s/s), cov %s, ft %s, corpus %s' \
            "$t" "${runs:-?}" "$SECONDS_EACH" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}")")
    fi
done

echo
printf '%s\n' "${SUMMARY[@]}"
echo "RESULT passed=$((${#TARGETS[@]} - ${#FAILED[@]})) failed=${#FAILED[@]}"
if [ ${#FAILED[@]} -gt 0 ]; then
    echo "failed: ${FAILED[*]} (logs in $LOGS)"
    exit 1
fi
