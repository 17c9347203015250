#!/usr/bin/env bash
# Stops the Cassandra that start.sh started (by its recorded pid) and waits for it to exit.
# `stop.sh --wipe` also deletes its data directory.
set -euo pipefail
dir="${CASSANDRA_DIR:-/tmp/parley-cassandra}"
if [ -f "$dir/pid" ]; then
  pid="$(cat "$dir/pid")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  fi
  rm -f "$dir/pid"
fi
if [ "${1:-}" = --wipe ]; then rm -rf "$dir"; fi
