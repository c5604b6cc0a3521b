#!/usr/bin/env bash
# Runs the embedding example as two host processes, a master and its
# mandatory standby, and tells the standby to fail over through the host's
# own control channel (its stdin). Passes when the standby became the master
# with every acknowledged write, the old master refuses writes as fenced,
# and both hosts exit cleanly.
#
#   tests/consumer/run.sh PATH/TO/embedded_node
set -euo pipefail
example=$(realpath "$1")
test -x "$example" || { echo "no example at $1" >&2; exit 1; }
dir=$(mktemp -d /tmp/tandem-consumer-XXXXXX)
pids=()
cleanup() {
  exec 3>&- 4>&- 2>/dev/null || true
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

# Waits (up to 30 s) for a line matching $2 in file $1 and prints it.
await() {
  for _ in $(seq 3000); do
    if line=$(grep -m1 -E "$2" "$1"); then
      echo "$line"
      return 0
    fi
    sleep 0.01
  done
  echo "no line matching '$2' in $1:" >&2
  cat "$1" "$1.err" >&2 || true
  return 1
}

# start NAME FD ARGS...: the host reads commands from a FIFO held open on FD.
start() {
  local name=$1 fd=$2
  shift 2
  mkfifo "$dir/$name.in"
  "$example" "$@" < "$dir/$name.in" > "$dir/$name.out" 2> "$dir/$name.out.err" &
  pids+=($!)
  eval "exec $fd> \"$dir/$name.in\""
}

# expect NAME FD PATTERN COMMAND...: sends COMMAND to host NAME and checks
# that its answer (the next line that is not a role change or progress)
# matches PATTERN.
declare -A answered
expect() {
  local name=$1 fd=$2 pattern=$3
  shift 3
  local before=${answered[$name]:-0}
  echo "$*" >&"$fd"
  for _ in $(seq 6000); do
    mapfile -t lines < <(grep -vE '^(role|progress) ' "$dir/$name.out" || true)
    if (( ${#lines[@]} > before )); then
      answered[$name]=$((before + 1))
      if [[ ${lines[$before]} =~ $pattern ]]; then
        echo "$name: $* -> ${lines[$before]}"
        return 0
      fi
      echo "$name: $* -> '${lines[$before]}', not /$pattern/" >&2
      exit 1
    fi
    sleep 0.01
  done
  echo "no answer from $name to '$*':" >&2
  cat "$dir/$name.out" "$dir/$name.out.err" >&2
  exit 1
}

start master 3 --root "$dir/master" --id master1
master=$(await "$dir/master.out" '^role master ' | cut -d' ' -f3)
expect master 3 '^ok$' define sb1 standby mandatory
expect master 3 '^ok [0-9]+/[0-9]+$' put config commit.wait mandatory

start standby 4 --root "$dir/standby" --id sb1 --master "$master"
await "$dir/standby.out" '^role downstream ' > /dev/null
# Acknowledged with commit.wait=mandatory: the standby holds it.
expect master 3 '^ok [0-9]+/[0-9]+$' put kv greeting hello
expect standby 4 '^value hello$' await kv greeting hello

# The host's own control command: fail over.
expect standby 4 '^failed over: epoch 2$' failover
await "$dir/standby.out" '^role master ' > /dev/null
await "$dir/master.out" '^role fenced ' > /dev/null

expect standby 4 '^ok [0-9]+/[0-9]+$' put kv after failover
expect standby 4 '^value hello$' get kv greeting
expect master 3 '^error fenced ' put kv stale write

echo quit >&3
echo quit >&4
exec 3>&- 4>&-
for pid in "${pids[@]}"; do wait "$pid"; done
pids=()
await "$dir/standby.out" '^applied [1-9][0-9]*$'
echo "consumer example: the embedded standby failed over when its host said so"
