#!/bin/bash
# Runs Debian's real, unmodified /usr/sbin/ksmtuned on recorded inputs, inside a private mount
# namespace (unshare -m) so that its /proc/meminfo and /sys/kernel/mm/ksm are files of the test's own.
# Usage: run-ksmtuned.sh DIR MEMTOTAL_KIB < lines of "FREE_KIB COMMITTED_KIB"
# Prints one line per input: "RUN PAGES_TO_SCAN SLEEP_MILLISECS" as ksmtuned left the KSM files.
set -eu
dir=$1
total=$2
mkdir -p "$dir/ksm" "$dir/bin"
printf '100\n' > "$dir/ksm/pages_to_scan"; printf '20\n' > "$dir/ksm/sleep_millisecs"; printf '0\n' > "$dir/ksm/run"
meminfo() { printf 'MemTotal: %s kB\nMemFree: %s kB\nBuffers: 0 kB\nCached: 0 kB\n' "$total" "$1" > "$dir/meminfo"; }
meminfo 0
mount --bind "$dir/meminfo" /proc/meminfo
mount --bind "$dir/ksm" /sys/kernel/mm/ksm
# ksmtuned sums the RSS of processes matching '^qemu-system.*-enable-kvm' with pgrep and ps.
cat > "$dir/bin/pgrep" <<'SH'
#!/bin/sh
[ "$(cat "$KSMTUNED_TEST_DIR/committed")" -gt 0 ] && echo 4242
exit 0
SH
cat > "$dir/bin/ps" <<'SH'
#!/bin/sh
cat "$KSMTUNED_TEST_DIR/committed"
SH
chmod +x "$dir/bin/pgrep" "$dir/bin/ps"
export KSMTUNED_TEST_DIR=$dir PATH="$dir/bin:$PATH"
echo 0 > "$dir/committed"
# With a PIDFILE that cannot be created, the script defines its functions and settings but does not
# start its loop, so each call of its own adjust() below is one of its monitor intervals.
PIDFILE=/nonexistent/memhygiene-test/ksmtune.pid
set +eu
. /usr/sbin/ksmtuned 2>/dev/null
while read -r free committed; do
    meminfo "$free"
    echo "$committed" > "$dir/committed"
    adjust
    echo "$(cat "$dir/ksm/run") $(cat "$dir/ksm/pages_to_scan") $(cat "$dir/ksm/sleep_millisecs")"
done
