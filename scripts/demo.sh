#!/usr/bin/env bash
# The main job, end to end on loopback: start a master, commit a workload
# through `tandem`, SIGKILL the server mid-flight, restart it and check every
# acknowledged transaction, take a checkpoint, restore it into a fresh root,
# and print both servers' table checksums side by side.
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
tandem -p "$MASTER" admin stop >/dev/null
tandem -p "$RESTORED" admin stop >/dev/null
echo
echo "demo finished; files are in $RUN"
