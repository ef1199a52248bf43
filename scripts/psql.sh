#!/usr/bin/env bash
# psql on the demo database.
source "$(dirname "$0")/lib.sh"
exec "$PGBIN/psql" -h "$(cluster_dir demo)" -p "${DEMO_PORT:-54329}" -U postgres -d chronicle_demo "$@"
