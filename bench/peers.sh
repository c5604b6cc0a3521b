#!/usr/bin/env bash
# Tandem beside Redis on this machine, in one run and with one load shape:
# 64 connections on loopback, 100-byte values, an fsync for every commit.
# Issue 13's targets are ratios against these peers, so each pair is measured
# back to back and printed with its ratio.
#
#   bench/peers.sh [SECONDS]     (make bench-peers; needs redis-server)
#
# 1. local: Tandem journal.fsync=always vs Redis appendfsync always (and
#    PostgreSQL synchronous_commit=on, without a standby).
# 2. one standby: Tandem commit.wait=mandatory (a mandatory standby, fsync on
#    both) vs Redis appendfsync always with an asynchronous replica (which
#    may lose acknowledged writes on a failover; Tandem may not), and
#    PostgreSQL with a synchronous standby (lossless, like Tandem).
# 3. both again with 16 requests in flight on each connection (redis-benchmark
#    -P 16, tandem-bench put -P 16): commits a client pipelines.
# PostgreSQL runs when its server is installed (postgresql); it refuses to
# run as root, so its clusters run as the `postgres` user.
set -euo pipefail
secs=${1:-10}
build=${BUILD:-build}
bench="$build/tools/tandem-bench"
command -v redis-server >/dev/null || { echo "needs redis-server (apt install redis-server)" >&2; exit 2; }
dir=$(mktemp -d /tmp/tandem-peers-XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for d in "$dir/pg-standby" "$dir/pg"; do
    [ -f "$d/postmaster.pid" ] && pg "$pg_bin/pg_ctl" -D "$d" -m immediate stop >/dev/null 2>&1
  done
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

free_port() {
  local p
  for p in $(seq 26379 26479); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return
    fi
  done
  return 1
}

# redis NAME PORT [ARGS...]: a Redis server of ours, AOF fsync on every write.
redis() {
  local name=$1 port=$2
  shift 2
  mkdir -p "$dir/$name"
  redis-server --port "$port" --bind 127.0.0.1 --dir "$dir/$name" --save "" \
    --appendonly yes --appendfsync always --daemonize no "$@" > "$dir/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 500); do
    redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && return
    sleep 0.01
  done
  echo "redis $name did not start" >&2
  exit 1
}

# Prints "ops/s p50_ms p99_ms" for SET with 64 connections, PIPELINE (default
# 1) requests in flight on each.
redis_load() {
  local port=$1 pipeline=${2:-1} n
  n=$((secs * 60000 * pipeline))
  redis-benchmark -p "$port" -t set -c 64 -P "$pipeline" -d 100 -r 100000 -n "$n" --csv -q |
    awk -F, '/^"SET"/ { gsub(/"/, ""); print $2, $5, $7 }'
}

# Prints "ops/s p50_ms p99_ms" for tandem-bench put with ARGS.
tandem_load() {
  "$bench" put -c 64 -d "$secs" -s 100 -k 100000 --fsync always --json "$@" |
    sed -n 's/.*"\(commits_per_sec\|p50_ms\|p99_ms\)": \([0-9.]*\).*/\2/p' | paste -sd' '
}

pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
pg() { runuser -u postgres -- "$@"; }

# pg_start NAME PORT [ARGS...]: a PostgreSQL cluster of ours in $dir/NAME.
pg_start() {
  local name=$1 port=$2
  shift 2
  pg "$pg_bin/pg_ctl" -D "$dir/$name" -l "$dir/$name.log" -w -t 30 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=on -c synchronous_commit=on $*" start >/dev/null
}

# Prints "ops/s p50_ms p99_ms" for pgbench: 64 clients upserting 100-byte rows.
# pgbench gives the average latency only; it stands in for both columns.
pg_load() {
  local port=$1
  pg "$pg_bin/psql" -q -h 127.0.0.1 -p "$port" -U postgres -c \
    "CREATE TABLE IF NOT EXISTS kv (k int PRIMARY KEY, v text)" postgres 2>/dev/null
  printf '\\set k random(1, 100000)\nINSERT INTO kv VALUES (:k, repeat(%s, 100)) ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v;\n' \
    "'v'" > "$dir/upsert.sql"
  chmod a+r "$dir/upsert.sql"
  pg "$pg_bin/pgbench" -n -c 64 -j 2 -T "$secs" -f "$dir/upsert.sql" -h 127.0.0.1 -p "$port" \
    -U postgres postgres 2>/dev/null |
    awk '/^latency average/ { lat = $4 } /^tps/ { tps = $3 } END { print tps, lat, lat }'
}

row() {  # NAME TANDEM(ops p50 p99) PEER(ops p50 p99)
  awk -v name="$1" -v t="$2" -v p="$3" 'BEGIN {
    split(t, a, " "); split(p, b, " ");
    printf "| %s | %.1fk/s, p50 %.2f ms, p99 %.2f ms | %.1fk/s, p50 %.2f ms, p99 %.2f ms | %.2fx | %.2fx |\n",
      name, a[1] / 1000, a[2], a[3], b[1] / 1000, b[2], b[3], a[1] / b[1], b[3] / a[3] }'
}

echo "machine: $(nproc) CPUs; $("$bench" limits 2>/dev/null | tr -s ' \n' ' ')"
echo
echo "| load | Tandem | Redis $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/') | throughput ratio | p99 ratio (Redis/Tandem) |"
echo "| --- | --- | --- | --- | --- |"

port=$(free_port)
redis solo "$port"
peer=$(redis_load "$port")
ours_local=$(tandem_load)
row "local, fsync every commit" "$ours_local" "$peer"
peer_p16=$(redis_load "$port" 16)
row "local, 16 in flight per connection" "$(tandem_load -P 16)" "$peer_p16"

replica_port=$(free_port)
redis replica "$replica_port" --replicaof 127.0.0.1 "$port"
for _ in $(seq 500); do
  redis-cli -p "$replica_port" info replication | grep -q "master_link_status:up" && break
  sleep 0.01
done
peer=$(redis_load "$port")
lossless=(--standbys 1 --mandatory --commit-wait mandatory --standby-fsync always)
ours_standby=$(tandem_load "${lossless[@]}")
row "one standby (Tandem lossless, Redis async replica)" "$ours_standby" "$peer"
peer_p16=$(redis_load "$port" 16)
row "one standby, 16 in flight per connection" "$(tandem_load "${lossless[@]}" -P 16)" "$peer_p16"

[ -n "$pg_bin" ] || exit 0
chown postgres "$dir"
echo
echo "| load | Tandem | PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') (latency: average) | throughput ratio | latency ratio (PostgreSQL/Tandem p99) |"
echo "| --- | --- | --- | --- | --- |"
pg "$pg_bin/initdb" -D "$dir/pg" -U postgres --auth=trust >/dev/null
pg_port=$(free_port)
pg_start pg "$pg_port"
peer=$(pg_load "$pg_port")
row "local, fsync every commit" "$ours_local" "$peer"
# A synchronous standby: a commit returns once the standby has it (remote_flush).
pg "$pg_bin/pg_basebackup" -D "$dir/pg-standby" -h 127.0.0.1 -p "$pg_port" -U postgres -R -X stream
standby_port=$(free_port)
pg_start pg-standby "$standby_port" "-c cluster_name=standby1"
pg "$pg_bin/psql" -q -h 127.0.0.1 -p "$pg_port" -U postgres \
  -c "ALTER SYSTEM SET synchronous_standby_names = '*'" -c "SELECT pg_reload_conf()" postgres >/dev/null
for _ in $(seq 500); do
  pg "$pg_bin/psql" -tA -h 127.0.0.1 -p "$pg_port" -U postgres \
    -c "SELECT sync_state FROM pg_stat_replication" postgres | grep -q sync && break
  sleep 0.01
done
peer=$(pg_load "$pg_port")
row "one synchronous standby (both lossless)" "$ours_standby" "$peer"
pg "$pg_bin/pg_ctl" -D "$dir/pg-standby" -m fast stop >/dev/null
pg "$pg_bin/pg_ctl" -D "$dir/pg" -m fast stop >/dev/null

