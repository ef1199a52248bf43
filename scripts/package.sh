#!/usr/bin/env bash
# Builds the packages a DBA installs, for every supported PostgreSQL major
# (or the one given with --pg), into target/packages:
#
#   postgresql-N-chronicle_VERSION_amd64.deb
#       named and laid out the Debian/PGDG way: the library in
#       /usr/lib/postgresql/N/lib, the control file and every install and
#       upgrade script in /usr/share/postgresql/N/extension; depends on
#       postgresql-N. Install with `dpkg -i` (or `apt install ./FILE`).
#   chronicle-VERSION-pgN-x86_64-linux.tar.gz  (the relocatable servers)
#       the same files in the layout pg_config reports, relative to the
#       server's installation directory (lib/, share/extension/): unpack
#       with `tar -xzf FILE -C "$(dirname "$(pg_config --bindir)")"`.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

VERSION=$CHRONICLE_VERSION
OUT="$ROOT/target/packages"
majors=("${PG_MAJORS[@]}")
[ -n "${CHRONICLE_PG:-}" ] && majors=("$PG_MAJOR")
mkdir -p "$OUT"

# package_major: the .deb (and the tarball for a relocatable server) of PG_MAJOR.
package_major() {
    local logfile="$STATE/package-pg$PG_MAJOR.log" tree pkglibdir sharedir stage deb
    log "cargo pgrx package for PostgreSQL $PG_MAJOR"
    # shellcheck disable=SC2046
    cargo pgrx package -p chronicle --pg-config "$PG_CONFIG" $(pgrx_features) >"$logfile" 2>&1 \
        || { tail -30 "$logfile" >&2; die "cargo pgrx package failed for PostgreSQL $PG_MAJOR"; }
    tree="$ROOT/target/release/chronicle-pg$PG_MAJOR"
    pkglibdir="$("$PG_CONFIG" --pkglibdir)"
    sharedir="$("$PG_CONFIG" --sharedir)"
    install_sql_scripts "$tree$sharedir/extension"
    [ -f "$tree$pkglibdir/chronicle.so" ] || die "no chronicle.so in $tree$pkglibdir"

    # The .deb, in Debian's own paths for this major.
    local name="postgresql-$PG_MAJOR-chronicle"
    stage="$STATE/package-stage/$name"
    rm -rf "$stage"
    install -d "$stage/DEBIAN" "$stage/usr/lib/postgresql/$PG_MAJOR/lib" \
        "$stage/usr/share/postgresql/$PG_MAJOR/extension" "$stage/usr/share/doc/$name"
    install -m 644 "$tree$pkglibdir/chronicle.so" "$stage/usr/lib/postgresql/$PG_MAJOR/lib/"
    install -m 644 "$tree$sharedir"/extension/chronicle* "$stage/usr/share/postgresql/$PG_MAJOR/extension/"
    install -m 644 "$ROOT/README.md" "$ROOT/CHANGELOG.md" "$stage/usr/share/doc/$name/"
    cat >"$stage/usr/share/doc/$name/copyright" <<EOF
Chronicle, an event store for PostgreSQL.
License: Apache-2.0 (see /usr/share/common-licenses/Apache-2.0).
EOF
    cat >"$stage/DEBIAN/control" <<EOF
Package: $name
Version: $VERSION
Architecture: amd64
Maintainer: Chronicle developers <chronicle@localhost>
Depends: postgresql-$PG_MAJOR, libc6 (>= 2.34)
Section: database
Priority: optional
Installed-Size: $(du -sk --exclude=DEBIAN "$stage" | cut -f1)
Description: Chronicle event store for PostgreSQL $PG_MAJOR
 Append-only event streams with optimistic concurrency, replay of a stream's
 state at any point in time, a dense global feed with subscriptions, and
 tenants, as a PostgreSQL extension: CREATE EXTENSION chronicle. With it,
 chronicle_message_store: message-db 1.3.0's SQL API on Chronicle's storage.
EOF
    (cd "$stage" && find usr -type f -exec md5sum {} + | sort -k2) >"$stage/DEBIAN/md5sums"
    deb="$OUT/${name}_${VERSION}_amd64.deb"
    dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
    echo "$deb"

    # The tarball, for a server that lives wherever it was unpacked.
    if [ "$(pg_lock "$PG_MAJOR" source)" = pypi ]; then
        local prefix tarball
        prefix="$(dirname "$("$PG_CONFIG" --bindir)")"
        tarball="$OUT/chronicle-$VERSION-pg$PG_MAJOR-x86_64-linux.tar.gz"
        tar -czf "$tarball" --owner=0 --group=0 -C "$tree$prefix" \
            "${pkglibdir#"$prefix"/}/chronicle.so" "${sharedir#"$prefix"/}/extension"
        echo "$tarball"
    fi
}

for major in "${majors[@]}"; do
    use_pg "$major"
    package_major
done
log "packages in $OUT"
