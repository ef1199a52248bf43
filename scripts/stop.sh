#!/usr/bin/env bash
# Stops the private Postgres servers (demo, test, bench).
source "$(dirname "$0")/lib.sh"
for name in demo test bench; do cluster_stop "$name"; done
