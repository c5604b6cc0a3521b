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
