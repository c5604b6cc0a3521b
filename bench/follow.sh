#!/usr/bin/env bash
# How long the other servers take to follow a new master after a failover
# from a hung one: a master, a mandatory standby sb1, a standby sb2 and a
# replica r1 on loopback (defaults: rpl.timeout.ms 2000). The master is
# SIGSTOPped, `failover -y` runs on sb1, and each of r1 and sb2 is polled
# (hello) until it says epoch 2 and streams from sb1.
#
#   bench/follow.sh [RUNS] [BASE_PORT]       (ports BASE..BASE+3 per run)
#
# Prints, per run, the failover's time and each follower's time after the
# failover returned. Stops only what it started.
set -euo pipefail
runs=${1:-3}
base=${2:-27000}
b=${BUILD:-build}/tools
dir=$(mktemp -d /tmp/tandem-follow-XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -CONT "$pid" 2>/dev/null || true; kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
ms() { echo $(( $(date +%s%N) / 1000000 )); }

for run in $(seq 1 "$runs"); do
  d="$dir/$run"; p=$((base + 4 * (run - 1)))
  m=127.0.0.1:$p; s1=127.0.0.1:$((p + 1)); s2=127.0.0.1:$((p + 2)); r1=127.0.0.1:$((p + 3))
  "$b/tandemd" -r "$d/m" --id master1 >/dev/null
  "$b/tandemd" -r "$d/m" -p "$m" -L "$d/m.log" & mpid=$!; pids+=("$mpid")
  for i in $(seq 1 100); do "$b/tandem" -p "$m" info >/dev/null 2>&1 && break; sleep 0.05; done
  spec() {
    printf 'ServerID: %s\nServices: %s\nOptions: %s\nReplicatingFrom: master1\nAddress: %s\n' \
      "$1" "$2" "$3" "$4" | "$b/tandem" -p "$m" server -i >/dev/null
  }
  spec sb1 standby mandatory "$s1"; spec sb2 standby nomandatory "$s2"; spec r1 replica nomandatory "$r1"
  for x in "sb1 $s1" "sb2 $s2" "r1 $r1"; do
    set -- $x
    "$b/tandemd" -r "$d/$1" --id "$1" >/dev/null
    "$b/tandemd" -r "$d/$1" -cset "target=$m" >/dev/null
    "$b/tandemd" -r "$d/$1" -p "$2" -L "$d/$1.log" & pids+=("$!")
  done
  for i in $(seq 1 20); do "$b/tandem" -p "$m" put kv "k$i" v >/dev/null; done
  for srv in "$s1" "$s2" "$r1"; do  # each caught up and streaming
    for i in $(seq 1 400); do
      "$b/tandem" -p "$srv" hello 2>/dev/null | grep -q "upstream: $m" && break; sleep 0.025
    done
  done
  kill -STOP "$mpid"
  t0=$(ms)
  "$b/tandem" -p "$s1" failover -y >"$d/failover.out" 2>&1 || { echo "run $run: failover failed"; cat "$d/failover.out"; exit 1; }
  t1=$(ms)
  line="run $run: failover -y $((t1 - t0)) ms;"
  for srv in "$r1" "$s2"; do
    for i in $(seq 1 2000); do
      h=$("$b/tandem" -p "$srv" hello 2>/dev/null || true)
      if grep -q "epoch: 2" <<<"$h" && grep -q "upstream: $s1" <<<"$h"; then break; fi
      sleep 0.005
    done
    line="$line $([ "$srv" = "$r1" ] && echo r1 || echo sb2) follows $(( $(ms) - t1 )) ms after it;"
  done
  echo "$line"
  for pid in "${pids[@]}"; do kill -CONT "$pid" 2>/dev/null || true; kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  pids=()
done
