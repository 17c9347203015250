#!/usr/bin/env bash
# Makes sure PostgreSQL and Redis answer on 127.0.0.1, installing them from Debian's
# packages if this machine has neither, and that the tools the suites run are installed.
# `services.sh coturn` only installs coturn (the embedded pass needs it too).
set -euo pipefail

log() { printf '\n==> %s\n' "$*"; }
apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# The calls suite starts a real coturn (turnserver) on loopback and fails without it, so a
# machine that cannot install it fails here, with the reason, instead.
ensure_coturn() {
  command -v turnserver >/dev/null 2>&1 && return 0
  log "installing coturn"
  apt_install coturn || { echo "coturn could not be installed: the calls suite needs turnserver" >&2; exit 1; }
  command -v turnserver >/dev/null 2>&1 || { echo "turnserver is missing after installing coturn" >&2; exit 1; }
}

if [ "${1:-}" = coturn ]; then
  ensure_coturn
  exit 0
fi
ensure_coturn

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

if ! pg_up; then
  log "starting PostgreSQL"
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then apt_install postgresql; fi
  version=$(ls /etc/postgresql | sort -V | tail -n1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
  pg_up || { echo "PostgreSQL did not start" >&2; exit 1; }
fi
# A password for TCP logins, so the same URL works with trust or password auth.
if command -v runuser >/dev/null 2>&1; then
  runuser -u postgres -- psql -q -c "ALTER USER postgres PASSWORD 'postgres'" >/dev/null 2>&1 || true
fi

if ! redis_up; then
  log "starting Redis"
  command -v redis-server >/dev/null 2>&1 || apt_install redis-server
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 1 30); do redis_up && break; sleep 1; done
  redis_up || { echo "Redis did not start" >&2; exit 1; }
fi
log "PostgreSQL and Redis are up"

# ffmpeg makes video poster frames: CI tests them for real, so a missing ffmpeg fails the run.
if ! command -v ffmpeg >/dev/null 2>&1; then
  log "installing ffmpeg"
  apt_install ffmpeg || { echo "ffmpeg could not be installed" >&2; exit 1; }
  command -v ffmpeg >/dev/null 2>&1 || { echo "ffmpeg is missing after installing it" >&2; exit 1; }
fi

# Chromium runs the web client's browser suite (playwright-core drives Debian's build).
if ! command -v chromium >/dev/null 2>&1; then
  log "installing chromium"
  apt_install chromium || { echo "chromium could not be installed: the browser suite needs it" >&2; exit 1; }
  command -v chromium >/dev/null 2>&1 || { echo "chromium is missing after installing it" >&2; exit 1; }
fi
