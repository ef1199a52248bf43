#!/usr/bin/env bash
# Stops the dashboard and the private Postgres servers (demo, test, bench) of
# every major.
source "$(dirname "$0")/lib.sh"
for name in demo test bench; do dashboard_stop "$name"; done
for major in "${PG_SERVERS[@]}"; do
    use_pg "$major"
    for name in demo test bench; do cluster_stop "$name"; done
done
