#!/usr/bin/env bash
# The main job, end to end on loopback: start a master, commit a workload
# through `tandem`, SIGKILL the server mid-flight, restart it and check every
# acknowledged transaction, take a checkpoint, restore it into a fresh root,
# and print both servers' table checksums side by side. Then a cluster
# (mandatory standby, second standby, replica) with versioned files, a planned
# failover under load that the other servers follow, and repeated planned and
# unplanned (SIGKILL) failovers measured by tandem-bench.
set -euo pipefail
BUILD=${1:-build}
BIN=$(cd "$BUILD/tools" && pwd)
RUN=$(pwd)/demo-run
rm -rf "$RUN"
mkdir -p "$RUN"
export TANDEM_TICKETS=$RUN/tickets TANDEM_TRUST=$RUN/trust
PIDS=()
trap 'for p in "${PIDS[@]:-}"; do kill -9 "$p" 2>/dev/null || true; done' EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
tandem() { "$BIN/tandem" "$@"; }

# start_server ROOT VAR: runs tandemd on a free loopback port; VAR gets the address.
start_server() {
  local root=$1 var=$2 out="$1.stdout"
  rm -f "$out"
  "$BIN/tandemd" -r "$root" -p 127.0.0.1:0 -L "$root.log" >"$out" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  for _ in $(seq 1 200); do
    if grep -q ' on 127.0.0.1:' "$out" 2>/dev/null; then break; fi
    kill -0 "$pid" 2>/dev/null || { cat "$out"; exit 1; }
    sleep 0.05
  done
  printf -v "$var" '%s' "$(sed -n 's/.* on \(127\.0\.0\.1:[0-9]*\) at .*/\1/p' "$out")"
  printf -v "${var}_PID" '%s' "$pid"
  cat "$out"
}

step "1. Start a master"
"$BIN/tandemd" -r "$RUN/master" --id master1
start_server "$RUN/master" MASTER

step "2. Workload: 8 clients commit through 'tandem' while the server is killed with SIGKILL"
writer() {
  local w=$1
  for i in $(seq 1 100000); do
    if tandem -p "$MASTER" put demo "w$w-$i" "value-$w-$i" >/dev/null 2>&1; then
      echo "w$w-$i" >>"$RUN/acked.$w"
    else
      break
    fi
  done
}
for w in 1 2 3 4 5 6 7 8; do writer "$w" & done
printf 'put orders o-1 {"item":"tea","qty":2}\nput orders o-2 {"item":"cups","qty":6}\ndel demo nothing\n' |
  tandem -p "$MASTER" txn
sleep 2
kill -9 "$MASTER_PID"
wait "$MASTER_PID" 2>/dev/null || true
wait
ACKED=$(cat "$RUN"/acked.* | sort)
echo "killed the master with $(echo "$ACKED" | wc -l) acknowledged puts"

step "3. Restart and check that every acknowledged transaction survived"
start_server "$RUN/master" MASTER
PRESENT=$(tandem -p "$MASTER" scan demo | cut -d' ' -f1 | sort)
MISSING=$(comm -23 <(echo "$ACKED") <(echo "$PRESENT") | wc -l)
echo "acknowledged: $(echo "$ACKED" | wc -l)   present after restart: $(echo "$PRESENT" | wc -l)   missing: $MISSING"
[ "$MISSING" -eq 0 ] || { echo "LOST ACKNOWLEDGED WRITES"; exit 1; }
tandem -p "$MASTER" get orders o-1

step "4. Checkpoint, write a little more, stop the master"
tandem -p "$MASTER" admin checkpoint
CKP=$(ls "$RUN"/master/checkpoints/ckp.*.gz | tail -1)
tandem -p "$MASTER" put demo after-checkpoint "lands in the new journal"
tandem -p "$MASTER" admin stop
wait "$MASTER_PID" 2>/dev/null || true
"$BIN/tandemd" -r "$RUN/master" -xv

step "5. Restore the checkpoint and the journal after it into a fresh root"
"$BIN/tandemd" -r "$RUN/restored" -jr "$CKP" "$RUN/master/journal"

step "6. Both servers up; per-table checksums side by side"
start_server "$RUN/master" MASTER
start_server "$RUN/restored" RESTORED
tandem -p "$MASTER" journaldbchecksums >"$RUN/sums.master"
tandem -p "$RESTORED" journaldbchecksums >"$RUN/sums.restored"
paste -d'|' <(sed "1s/.*/master $MASTER/" "$RUN/sums.master") \
            <(sed "1s/.*/restored $RESTORED/" "$RUN/sums.restored") |
  awk -F'|' '{ printf "%-44s %s\n", $1, $2 }'
if diff <(tail -n +2 "$RUN/sums.master") <(tail -n +2 "$RUN/sums.restored") >/dev/null; then
  echo "checksums: MATCH"
else
  echo "checksums: DIFFER"
  exit 1
fi
tandem -p "$RESTORED" admin stop >/dev/null

step "7. A cluster: mandatory standby, non-mandatory standby and a replica of the master"
spec() { printf 'ServerID: %s\nServices: %s\nOptions: %s\nReplicatingFrom: master1\n' "$1" "$2" "$3" |
  tandem -p "$MASTER" server -i; }
spec standby1 standby mandatory
spec standby2 standby nomandatory
spec replica1 replica nomandatory
for id in standby1 standby2 replica1; do
  "$BIN/tandemd" -r "$RUN/$id" --id "$id" >/dev/null
  "$BIN/tandemd" -r "$RUN/$id" -cset "target=$MASTER" >/dev/null
done
start_server "$RUN/standby1" STANDBY1
# The others list both servers that may be master; they follow the one of the
# highest epoch, so they re-point by themselves after a failover.
for id in standby2 replica1; do
  "$BIN/tandemd" -r "$RUN/$id" -cset "target=$MASTER,$STANDBY1" >/dev/null
done
start_server "$RUN/standby2" STANDBY2
start_server "$RUN/replica1" REPLICA1
tandem -p "$MASTER" configure set commit.wait=mandatory

step "8. Workload on the master while everything replicates"
"$BIN/tandem-bench" put -p "$MASTER" -c 16 -d 3 | grep -E "commits_per_sec|p50_ms|p99_ms"
tandem -p "$MASTER" admin journal >/dev/null
for i in $(seq 1 20); do tandem -p "$MASTER" put cluster "c$i" "after-rotation-$i" >/dev/null; done
caught_up() {
  local want have
  want=$(tandem -p "$MASTER" --json info | sed -n 's/.*"sequence": \([0-9]*\).*/\1/p')
  have=$(tandem -p "$1" --json pull -lj | sed -n 's/.*"applied": "[0-9]*\/\([0-9]*\)".*/\1/p')
  [ "$want" = "$have" ]
}
for s in "$STANDBY1" "$STANDBY2" "$REPLICA1"; do
  for _ in $(seq 1 200); do caught_up "$s" && break; sleep 0.05; done
done

step "8b. Versioned files: submit on the master, pull -u brings them to every server"
head -c 1048576 /dev/urandom >"$RUN/random-1MiB.bin"
tandem -p "$MASTER" submit README.md -d //depot/docs/README.md
tandem -p "$MASTER" submit journal/FORMAT.md -d //depot/docs/FORMAT.md
tandem -p "$MASTER" submit "$RUN/random-1MiB.bin" -d //depot/bin/random.bin
tandem -p "$MASTER" files //depot/
for s in "$STANDBY1" "$STANDBY2" "$REPLICA1"; do
  for _ in $(seq 1 200); do
    caught_up "$s" && tandem -p "$s" pull -lj | grep -q "pull -u backlog: 0 files" && break
    sleep 0.05
  done
done
# ...and until the master has heard so in their acknowledgements.
settled() {
  ! tandem -p "$MASTER" --json servers -J | grep -E '"(lagBytes|pullUFiles)"' | grep -qvE ': 0,?$'
}
for _ in $(seq 1 200); do settled && break; sleep 0.05; done

step "9. servers -J on the master"
tandem -p "$MASTER" servers -J

step "10. pull -lj on the replica"
tandem -p "$REPLICA1" pull -lj
tandem -p "$REPLICA1" put cluster refused write || true

step "11. journaldbchecksums: the master writes a marker; every server checks itself at it"
tandem -p "$MASTER" journaldbchecksums
for s in "$STANDBY1" "$STANDBY2" "$REPLICA1"; do
  for _ in $(seq 1 200); do caught_up "$s" && break; sleep 0.05; done
done
ALL_MATCH=1
for pair in "standby1 $STANDBY1" "standby2 $STANDBY2" "replica1 $REPLICA1"; do
  set -- $pair
  echo "-- $1"
  tandem -p "$2" journaldbchecksums -s | tee "$RUN/verdict.$1"
  grep -q DIFFER "$RUN/verdict.$1" && ALL_MATCH=0
  grep -q ' match ' "$RUN/verdict.$1" || ALL_MATCH=0
done
[ "$ALL_MATCH" = 1 ] && echo "every server: MATCH" || { echo "checksums DIFFER"; exit 1; }
cmp "$RUN/master/journals/journal.2" "$RUN/standby1/journals.rep/journal.2" &&
  cmp <(head -c "$(stat -c %s "$RUN/standby1/journals.rep/journal.3")" "$RUN/master/journal") \
      "$RUN/standby1/journals.rep/journal.3" &&
  echo "standby1's journals.rep/journal.2 and .3 are byte-for-byte the master's journals"

step "12. verify: archive digests on every server"
for pair in "master $MASTER" "standby1 $STANDBY1" "standby2 $STANDBY2" "replica1 $REPLICA1"; do
  set -- $pair
  echo "-- $1"
  tandem -p "$2" verify //depot/ || { echo "verify failed on $1"; exit 1; }
done
cmp <(tandem -p "$REPLICA1" print //depot/bin/random.bin) "$RUN/random-1MiB.bin" &&
  echo "replica1 serves //depot/bin/random.bin byte for byte"

step "13. Failover preview on standby1 (checks only; nothing changes)"
tandem -p "$STANDBY1" failover || true

step "14. Planned failover under load: the master takes part and nothing is lost"
echo "(standby1 becomes master1; standby2 and replica1 follow it by their target lists)"
"$BIN/tandem-bench" put -p "$MASTER" -c 16 -d 2 >/dev/null 2>&1 &
LOAD=$!
sleep 0.5
START=$(date +%s%N)
tandem -p "$STANDBY1" failover -y -w 0 "demo: planned failover"
until tandem -p "$STANDBY1" put cluster after-failover yes >/dev/null 2>&1; do sleep 0.002; done
echo "first write acknowledged by the new master after $(( ($(date +%s%N) - START) / 1000000 )) ms"
wait "$LOAD" || true
tandem -p "$STANDBY1" info | grep -E "serverID|role|epoch"
echo "-- the old master stays up, fenced: it says where the master went and refuses writes"
tandem -p "$MASTER" info | grep -E "role|newMaster"
tandem -p "$MASTER" put cluster stale write 2>&1 | head -c 160 || true
echo
tandem -p "$MASTER" admin stop >/dev/null
MASTER=$STANDBY1
tandem -p "$MASTER" journaldbchecksums
for pair in "standby2 $STANDBY2" "replica1 $REPLICA1"; do
  set -- $pair
  for _ in $(seq 1 400); do caught_up "$2" && break; sleep 0.05; done
  echo "-- $1 (now replicating from the new master)"
  tandem -p "$2" journaldbchecksums -s
done

step "15. Repeated planned and unplanned (SIGKILL) failovers of fresh clusters, measured"
"$BIN/tandem-bench" failover --runs 3 -c 16 --root "$RUN/bench-planned" \
  --series "$RUN/planned-failover.csv"
# Throughput, latency and lag of the first planned failover, over time.
/usr/bin/python3 bench/plot.py "$RUN/planned-failover.csv" "$RUN/planned-failover.png" \
  "planned failover under load: 16 clients, commit.wait=local"
"$BIN/tandem-bench" failover --runs 3 -c 16 --unplanned --root "$RUN/bench-unplanned"

for a in "$STANDBY1" "$STANDBY2" "$REPLICA1"; do tandem -p "$a" admin stop >/dev/null; done

echo
echo "demo finished; files are in $RUN"
