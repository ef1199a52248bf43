#!/usr/bin/env bash
# Installs everything Chronicle needs on a Debian 12 machine, as root.
# Idempotent: a second run checks and skips (a few seconds).
source "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || die "run as root (it installs packages and creates the '$PGUSER_OS' user)"
mkdir -p "$STATE"

APT_PACKAGES=(build-essential pkg-config libssl-dev clang libclang-dev sudo
    postgresql-15 postgresql-server-dev-15 postgresql-contrib chromium curl)
missing=()
for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    log "apt-get install ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian's package starts a cluster of its own on 5432; Chronicle uses private
# clusters and leaves that one alone.

command -v cargo >/dev/null || die "cargo not found: install Rust with rustup first"

if [ "$(cargo pgrx --version 2>/dev/null | awk '{print $2}')" != "$PGRX_VERSION" ]; then
    log "cargo install cargo-pgrx $PGRX_VERSION (about 9 minutes on 2 cores)"
    cargo install cargo-pgrx --version "$PGRX_VERSION" --locked --quiet
fi
if ! grep -qs "^pg15 = \"$PG_CONFIG\"" "$HOME/.pgrx/config.toml"; then
    log "cargo pgrx init against Debian's Postgres 15"
    cargo pgrx init --pg15 "$PG_CONFIG" >/dev/null
fi

# WebAssembly: the target, and wasm-bindgen-cli of exactly the version in
# Cargo.lock (its output must match the library). Not --locked: a locked
# install fails against the crates.io mirror these machines use (webpki-roots).
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    log "rustup target add wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown >/dev/null
fi
WASM_BINDGEN_VERSION="$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print}' "$ROOT/Cargo.lock")"
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
    log "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 3 minutes)"
    cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --quiet
fi

# cargo-fuzz, for the fuzz targets (./chronicle fuzz, and a short run in the tests).
if [ "$(cargo fuzz --version 2>/dev/null | awk '{print $2}')" != "$CARGO_FUZZ_VERSION" ]; then
    log "cargo install cargo-fuzz $CARGO_FUZZ_VERSION (about 2 minutes)"
    cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked --quiet
fi

if ! id "$PGUSER_OS" >/dev/null 2>&1; then
    log "creating system user '$PGUSER_OS' to run Postgres"
    useradd --system --no-create-home --shell /usr/sbin/nologin "$PGUSER_OS"
fi

# Client test dependencies (pinned).
if [ ! -x "$VENV/bin/python" ]; then
    log "python venv"
    python3 -m venv "$VENV"
fi
req="$ROOT/tests/clients/python/requirements.txt"
if ! cmp -s "$req" "$VENV/.requirements" 2>/dev/null; then
    log "pip install -r tests/clients/python/requirements.txt"
    "$VENV/bin/pip" install -q --disable-pip-version-check -r "$req"
    cp "$req" "$VENV/.requirements"
fi
# Node packages of the tests (pinned by their lock files): the client tests,
# the wasm tests (pg) and the browser tests (playwright-core; the browser is
# Debian's chromium, never a downloaded one).
for node_dir in "$ROOT/tests/clients/node" "$ROOT/tests/wasm" "$ROOT/tests/browser"; do
    if ! cmp -s "$node_dir/package-lock.json" "$node_dir/node_modules/.chronicle-installed" 2>/dev/null; then
        log "npm ci (${node_dir#"$ROOT"/})"
        (cd "$node_dir" && npm ci --silent --no-audit --no-fund)
        cp "$node_dir/package-lock.json" "$node_dir/node_modules/.chronicle-installed"
    fi
done
log "setup complete"
