#!/usr/bin/env bash
# Installs the Debian package `make package` built and checks the installed
# programs: versions, and a server started and stopped from the installed
# files on a loopback port (bounded waits; only the process it started).
set -euo pipefail
deb=$(ls build-release/tandem_*_amd64.deb | head -1)
dpkg -i "$deb" >/dev/null
for p in tandemd tandem tandem-bench; do /usr/bin/$p --version; done
test -f /lib/systemd/system/tandemd@.service -o -f /usr/lib/systemd/system/tandemd@.service
test -f /etc/logrotate.d/tandemd
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
/usr/bin/tandemd -r "$root/r" --id smoke1 >/dev/null
/usr/bin/tandemd -r "$root/r" -p 127.0.0.1:0 -L "$root/log" >"$root/out" 2>&1 &
pid=$!
for _ in $(seq 1 100); do grep -q "serving" "$root/out" && break; sleep 0.1; done
address=$(sed -n 's/.* on \([0-9.]*:[0-9]*\) at .*/\1/p' "$root/out")
/usr/bin/tandem -p "$address" put smoke k v >/dev/null
test "$(/usr/bin/tandem -p "$address" get smoke k)" = v
/usr/bin/tandem -p "$address" ping
kill -TERM "$pid"
wait "$pid"
echo "package $deb: installed, served and stopped cleanly"

# An outside CMake project builds the embedding example against the
# installed package (find_package(Tandem)) and runs it: a master and a
# standby in two host processes, the standby failing over when told.
cmake -S tests/consumer -B "$root/consumer" >/dev/null
cmake --build "$root/consumer" -j2 >/dev/null
tests/consumer/run.sh "$root/consumer/embedded_node"
# And with pkg-config instead of CMake.
test "$(pkg-config --modversion tandem)" = "$(/usr/bin/tandemd --version | cut -d' ' -f2)"
# shellcheck disable=SC2046
g++ -o "$root/pc_node" examples/embedded_node.cc $(pkg-config --cflags --libs tandem)
"$root/pc_node" >/dev/null 2>&1 || test $? -eq 2  # usage: it runs
echo "embedding: find_package(Tandem) and pkg-config both build and run the example"
