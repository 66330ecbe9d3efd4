#!/usr/bin/env bash
# Makes sure the servers the storage tests talk to run on loopback:
#   Redis 127.0.0.1:6379, PostgreSQL 127.0.0.1:5432, MariaDB 127.0.0.1:3306,
#   memcached 127.0.0.1:11211.
# Installs (apt-get) whatever is missing, starts whatever is not running, and waits until each
# answers. Idempotent: running services are left alone. Exits non-zero, naming the service,
# when one cannot be brought up. Needs root (or sudo) only when something must be installed
# or started.
set -uo pipefail

WAIT_SECS="${SERVICES_WAIT_SECS:-60}"
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive

log() { echo "services: $*"; }
fail() { echo "services: FAILED: $*" >&2; exit 1; }

updated=0
install() {
  if [ "$updated" = 0 ]; then
    log "apt-get update"
    $sudo apt-get update -qq || fail "apt-get update"
    updated=1
  fi
  log "installing $*"
  # policy-rc.d 101 keeps the packages' own start scripts from running: this script starts
  # each server itself, the same way on every machine.
  local policy=/usr/sbin/policy-rc.d created=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null && $sudo chmod +x "$policy"
    created=1
  fi
  $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  local rc=$?
  [ "$created" = 1 ] && $sudo rm -f "$policy"
  [ "$rc" = 0 ] || fail "apt-get install $*"
}

# wait_until NAME COMMAND...: polls COMMAND until it succeeds, for at most WAIT_SECS.
wait_until() {
  local name=$1; shift
  local deadline=$(( $(date +%s) + WAIT_SECS ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "$name did not answer within ${WAIT_SECS}s"
    sleep 0.5
  done
  log "$name is up"
}

# ---- Redis
redis_up() { [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = PONG ]; }
command -v redis-server >/dev/null && command -v redis-cli >/dev/null || install redis-server
if ! redis_up; then
  log "starting Redis"
  $sudo mkdir -p /var/lib/redis /var/log/redis
  $sudo redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
    --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log \
    || $sudo redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" \
      --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log \
    || fail "redis-server would not start (see /var/log/redis/ci.log)"
fi
wait_until Redis redis_up

# ---- PostgreSQL
pg_up() { pg_isready -q -h 127.0.0.1 -p 5432; }
command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ] && [ -n "$(ls /etc/postgresql 2>/dev/null)" ] \
  || install postgresql
if ! pg_up; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  [ -n "$version" ] || fail "PostgreSQL is installed but has no cluster in /etc/postgresql"
  log "starting PostgreSQL $version"
  $sudo pg_ctlcluster --skip-systemctl-redirect "$version" main start \
    || fail "pg_ctlcluster $version main start"
fi
wait_until PostgreSQL pg_up
# The tests connect as root to a database named test (what the machines come with).
if ! psql -h 127.0.0.1 -U root -d test -tAc 'SELECT 1' >/dev/null 2>&1; then
  log "creating PostgreSQL role root and database test"
  $sudo su postgres -s /bin/sh -c \
    "psql -q -c \"DO \\\$\\\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'root') THEN CREATE ROLE root SUPERUSER LOGIN; END IF; END \\\$\\\$;\"" \
    || fail "could not create the PostgreSQL role root"
  $sudo su postgres -s /bin/sh -c "psql -tAc \"SELECT 1 FROM pg_database WHERE datname = 'test'\" | grep -q 1 || createdb -O root test" \
    || fail "could not create the PostgreSQL database test"
fi

# ---- MariaDB
maria_up() { mariadb-admin --protocol=tcp -h 127.0.0.1 -P 3306 -u root ping >/dev/null 2>&1; }
[ -x /usr/sbin/mariadbd ] && command -v mariadb-admin >/dev/null || install mariadb-server mariadb-client
if ! maria_up; then
  log "starting MariaDB"
  $sudo mkdir -p /run/mysqld
  id mysql >/dev/null 2>&1 && $sudo chown mysql:mysql /run/mysqld
  $sudo start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd \
    || fail "start-stop-daemon mariadbd"
  # A fresh install lets root in over the socket only; the tests log in over TCP.
  wait_until "MariaDB (socket)" $sudo mariadb-admin -u root ping
  if ! maria_up; then
    log "allowing root over TCP with an empty password"
    $sudo mariadb -u root -e \
      "ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD('')" \
      || fail "could not set up MariaDB root login"
  fi
fi
wait_until MariaDB maria_up
mariadb --protocol=tcp -h 127.0.0.1 -P 3306 -u root -e 'CREATE DATABASE IF NOT EXISTS test' \
  || fail "could not create the MariaDB database test"

# ---- memcached
memcached_up() {
  exec 3<>/dev/tcp/127.0.0.1/11211 || return 1
  printf 'version\r\n' >&3
  local line=""
  read -r -t 2 line <&3
  exec 3<&- 3>&-
  [[ "$line" == VERSION* ]]
}
command -v memcached >/dev/null || install memcached
if ! memcached_up 2>/dev/null; then
  log "starting memcached"
  user=memcache
  id "$user" >/dev/null 2>&1 || user=nobody
  $sudo memcached -d -u "$user" -l 127.0.0.1 -p 11211 -U 0 -m 64 \
    || fail "memcached would not start"
fi
wait_until memcached memcached_up

log "all services up"
