#!/usr/bin/env bash
# psql on the demo database (of whichever major the demo runs on; --pg
# chooses when several do).
source "$(dirname "$0")/lib.sh"
if [ -z "${CHRONICLE_PG:-}" ] && [ ! -f "$(cluster_dir demo)/data/postmaster.pid" ]; then
    for major in "${PG_MAJORS[@]}"; do
        (use_pg "$major"; [ -f "$(cluster_dir demo)/data/postmaster.pid" ]) && use_pg "$major"
    done
fi
exec "$PGBIN/psql" -h "$(cluster_dir demo)" -p "${DEMO_PORT:-54329}" -U postgres -d chronicle_demo "$@"
