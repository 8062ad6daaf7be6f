#!/usr/bin/env bash
# Installs the built packages on a clean Debian 12 system, a debootstrap'd chroot, the way README's
# "Install" tells an admin to, runs them, removes and purges them, and checks what stays:
#   1. a minbase bookworm (cached in $MEMHYGIENE_DEB_CACHE, default /var/cache/memhygiene-debs, like the
#      e2e image) from this machine's Debian mirror; the dependencies the packages declare, alone
#      (apt-get satisfy: proves they resolve on a clean system); a list of every file and of /etc's contents;
#   2. apt-get install ./memhygiene_*.deb ./memhygiene-agent_*.deb;
#   3. memhygiene --version, memhygiene ksm status (this machine's KSM through /sys), memhygiene sim run
#      (a small scenario: the launcher sizes the simulator's heap from the package's lib/), memhygiene-agent
#      posture (/proc), man pages and bash completion in place and working, the user, the enabled units,
#      systemd-analyze verify on the installed units;
#   4. apt-get remove: only the conffiles, the history and the units' enablement (masked, as debhelper
#      leaves them) stay; apt-get purge: nothing of the
#      packages stays; the system user memhygiene stays on purge, as debhelper leaves it (docs/PACKAGING.md).
# Mounts happen in a mount namespace of their own (unshare), so none outlives the test.
# Usage: install-test.sh [DIR with the .debs, default packaging/target]. Root only; exit 77 = skipped.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
debs=$(cd "${1:-$here/target}" && pwd)
cache=${MEMHYGIENE_DEB_CACHE:-/var/cache/memhygiene-debs}
skip() { echo "install-test: SKIPPED: $*"; exit 77; }
say() { echo "install-test: $*"; }

[ "$(id -u)" = 0 ] || skip "needs root (debootstrap, chroot, mounts)"
command -v debootstrap >/dev/null || skip "debootstrap is not installed (.ci/run installs it)"
command -v unshare >/dev/null || skip "unshare (util-linux) is not installed"
host_deb=$(ls "$debs"/memhygiene_*_all.deb)
agent_deb=$(ls "$debs"/memhygiene-agent_*_all.deb)

# This machine's Debian mirror (deb822 or one-line sources), so the chroot reaches what apt here reaches.
mirror=$( { grep -h '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}'
            grep -h '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}'; } | grep -v -e security -e '^$' | head -1 || true)
[ -n "$mirror" ] || skip "no Debian mirror in /etc/apt/sources.list{,.d}"

mkdir -p "$cache/archives/partial"
base="$cache/bookworm-minbase-$(dpkg-query -W -f='${Version}' debootstrap).tar"
exec 9>"$cache/lock"
flock 9
if [ ! -s "$base" ]; then
  say "debootstrap --variant=minbase bookworm (cached as $base)"
  tmp=$(mktemp -d /var/tmp/memhygiene-debootstrap.XXXXXX)
  debootstrap --variant=minbase --cache-dir="$cache/archives" bookworm "$tmp" "$mirror" >"$tmp.log" 2>&1 \
    || { tail -20 "$tmp.log"; rm -rf "$tmp" "$tmp.log"; exit 1; }
  tar -C "$tmp" -cf "$base.tmp" . && mv "$base.tmp" "$base"
  rm -rf "$tmp" "$tmp.log"
  find "$cache" -maxdepth 1 -name 'bookworm-minbase-*.tar' ! -path "$base" -delete
fi

root=$(mktemp -d /var/tmp/memhygiene-install.XXXXXX)
cleanup() {
  # The mounts were in the namespace's, gone with it; never delete through a mount that is still there.
  if findmnt -rn -o TARGET | grep -q "^$root"; then
    say "mounts left under $root, not deleting it"
  else
    rm -rf "$root"
  fi
}
trap cleanup EXIT
tar -C "$root" -xf "$base"
cp /etc/resolv.conf "$root/etc/resolv.conf"
rm -f "$root/etc/apt/sources.list"
cp /etc/apt/sources.list.d/*.sources "$root/etc/apt/sources.list.d/" 2>/dev/null || cp /etc/apt/sources.list "$root/etc/apt/"
mkdir -p "$root/tmp/debs"
cp "$host_deb" "$agent_deb" "$root/tmp/debs/"
# Services must not start in the chroot (Debian's policy-rc.d convention, invoke-rc.d(8)).
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"; chmod 755 "$root/usr/sbin/policy-rc.d"
# apt's downloads land in the cache bind-mounted from this machine, which its _apt user cannot write.
echo 'APT::Sandbox::User "root";' > "$root/etc/apt/apt.conf.d/00memhygiene-install-test"

export root cache host_name=${host_deb##*/} agent_name=${agent_deb##*/}
export host_depends agent_depends
host_depends=$(dpkg-deb -f "$host_deb" Depends)
agent_depends=$(dpkg-deb -f "$agent_deb" Depends)
unshare --mount --propagation private --fork bash -euo pipefail <<'INNER'
say() { echo "install-test: $*"; }
fail() { echo "install-test: FAILED: $*"; exit 1; }
t=$(mktemp -d /tmp/memhygiene-install-test.XXXXXX)
trap 'rm -rf "$t"' EXIT
# XDG_CACHE_HOME in /tmp: JNA unpacks its native library to the caller's cache, a trace of the caller, not
# of the packages (the agent's unit gives it CacheDirectory=, which purge removes).
inside() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root XDG_CACHE_HOME=/tmp/cache LANG=C.UTF-8 \
  DEBIAN_FRONTEND=noninteractive "$@"; }
mount -t proc proc "$root/proc"
mount -t sysfs -o ro sysfs "$root/sys"
mount --bind "$cache/archives" "$root/var/cache/apt/archives"

# Everything but the packages' own traces: apt's and dpkg's books, logs, caches, runtime and temporary files.
files() {
  inside find / -xdev \( -path /tmp -o -path /run -o -path /var/log -o -path /var/lib/dpkg -o -path /var/lib/apt \
    -o -path /var/cache -o -path /etc/ld.so.cache -o -path /usr/sbin/policy-rc.d \) -prune -o -printf '%p %y %m\n' | LC_ALL=C sort
}
etc_sums() { inside find /etc -xdev -type f -exec md5sum {} + | LC_ALL=C sort; }

inside apt-get update -qq
say "the declared dependencies alone: $host_depends; $agent_depends"
start=$SECONDS
inside apt-get satisfy -y -qq --no-install-recommends "$host_depends" "$agent_depends" >$t/satisfy.log 2>&1 \
  || { tail -30 $t/satisfy.log; fail "apt-get satisfy"; }
say "dependencies installed in $((SECONDS - start)) s: $(grep -c '^Setting up' $t/satisfy.log) packages"
files > $t/files.before
etc_sums > $t/etc.before

say "apt-get install ./$host_name ./$agent_name"
inside apt-get install -y -qq "/tmp/debs/$host_name" "/tmp/debs/$agent_name" >$t/install.log 2>&1 \
  || { cat $t/install.log; fail "apt-get install"; }
grep -E '^(Setting up|Unpacking) memhygiene' $t/install.log | sed 's/^/  /'
new=$(grep -c '^Setting up' $t/install.log)
[ "$new" = 2 ] || fail "apt-get install set up $new packages, expected only the two (the dependencies were there)"

version=$(inside memhygiene --version)
say "memhygiene --version: $version"
[[ $version == "memhygiene "[0-9]* ]] || fail "memhygiene --version printed '$version'"
if [ -d /sys/kernel/mm/ksm ]; then
  inside memhygiene ksm status > $t/ksm.out || { cat $t/ksm.out; fail "memhygiene ksm status"; }
  grep -q '^pages_to_scan ' $t/ksm.out || fail "memhygiene ksm status printed no pages_to_scan: $(cat $t/ksm.out)"
  say "memhygiene ksm status: $(head -1 $t/ksm.out)"
else
  say "this kernel has no KSM: memhygiene ksm status not run"
fi
inside memhygiene-agent posture > $t/posture.out 2>&1 || { cat $t/posture.out; fail "memhygiene-agent posture"; }
say "memhygiene-agent posture: $(wc -l < $t/posture.out) lines, first: $(head -1 $t/posture.out)"
inside memhygiene-agent posture --json | grep -q '"severity"' || fail "memhygiene-agent posture --json printed no findings"
# A simulator command: the launcher's heap sizing (LaunchHeap) runs from the package's lib/ as well.
cat > "$root/tmp/tiny.yaml" <<'YAML'
name: tiny
duration: 10s
sample_interval: 5s
guests:
  - {name: web, count: 2, memory: 64MiB, image: debian-12}
YAML
inside memhygiene sim run /tmp/tiny.yaml > $t/sim.out 2>&1 || { cat $t/sim.out; fail "memhygiene sim run"; }
grep -q 'simulated 10.0s of tiny (2 guests' $t/sim.out || fail "memhygiene sim run printed: $(cat $t/sim.out)"
say "memhygiene sim run: $(tail -1 $t/sim.out)"
out=$(inside memhygiene dashboard 2>&1) && fail "memhygiene dashboard succeeded without JavaFX"
[[ $out == *"not in the memhygiene package"* ]] || fail "memhygiene dashboard said: $out"

# Man pages where man(1) finds them, one per subcommand; bash completion that completes.
for page in man1/memhygiene.1 man1/memhygiene-ksm-status.1 man1/memhygiene-run.1 man8/memhygiene-agent.8 man8/memhygiene-agent-posture.8; do
  inside zcat "/usr/share/man/$page.gz" | grep -q '^\.TH ' || fail "no man page /usr/share/man/$page.gz"
done
say "man pages: $(inside sh -c 'ls /usr/share/man/man1/memhygiene*.1.gz | wc -l') in man1, $(inside sh -c 'ls /usr/share/man/man8/memhygiene*.8.gz | wc -l') in man8"
completes() {  # completes COMMAND WORD... : what bash completion offers for the last word
  inside bash -c 'source "/usr/share/bash-completion/completions/$0"; f=$(complete -p "$0" | sed -n "s/.*-F \([^ ]*\) .*/\1/p")
    COMP_WORDS=("$0" "$@"); COMP_CWORD=$#; COMP_LINE="$0 $*"; COMP_POINT=${#COMP_LINE}; "$f" 2>/dev/null; echo "${COMPREPLY[*]}"' "$@"
}
got=$(completes memhygiene ksm st); [ "$got" = status ] || fail "bash completion of 'memhygiene ksm st' gave '$got'"
got=$(completes memhygiene-agent pos); [ "$got" = posture ] || fail "bash completion of 'memhygiene-agent pos' gave '$got'"
say "bash completion: 'memhygiene ksm st' -> status, 'memhygiene-agent pos' -> posture"

inside getent passwd memhygiene >/dev/null || fail "no system user memhygiene"
say "user: $(inside getent passwd memhygiene)"
for unit in memhygiene memhygiene-agent; do
  [ -L "$root/etc/systemd/system/multi-user.target.wants/$unit.service" ] || fail "$unit.service is not enabled"
done
[ -d "$root/var/lib/memhygiene" ] || fail "tmpfiles.d did not create /var/lib/memhygiene"
# --man=no: the units' Documentation= pages are systemd's, and a minbase system has no man(1) to look.
verify=$(inside systemd-analyze verify --man=no /lib/systemd/system/memhygiene.service /lib/systemd/system/memhygiene-agent.service 2>&1) \
  || fail "systemd-analyze verify: $verify"
[ -z "$verify" ] || fail "systemd-analyze verify printed: $verify"
say "systemd-analyze verify memhygiene.service memhygiene-agent.service: clean"
conffiles=$(inside dpkg-query -W -f='${Conffiles}\n' memhygiene memhygiene-agent | awk 'NF {print $1}' | sort)
say "conffiles: $(echo $conffiles)"
[ "$(echo $conffiles)" = "/etc/memhygiene/agent.yaml /etc/memhygiene/memhygiene.yaml /etc/memhygiene/policy.yaml" ] \
  || fail "conffiles are: $conffiles"
echo "# edited by the admin" >> "$root/etc/memhygiene/memhygiene.yaml"

inside apt-get remove -y -qq memhygiene memhygiene-agent >$t/remove.log 2>&1 || { cat $t/remove.log; fail "apt-get remove"; }
files > $t/files.removed
stays=$(LC_ALL=C comm -13 $t/files.before $t/files.removed | awk '$2 == "f" || $2 == "l" {print $1}' \
  | grep -v -e '^/etc/memhygiene/' -e '^/etc/systemd/system/memhygiene\(-agent\)\?.service$' \
            -e '^/etc/systemd/system/multi-user.target.wants/memhygiene\(-agent\)\?.service$' \
            -e '^/var/lib/systemd/deb-systemd-helper-\(enabled\|masked\)/' -e '^/var/lib/memhygiene' || true)
[ -z "$stays" ] || fail "after apt-get remove, besides the conffiles: $stays"
for f in $conffiles; do [ -f "$root$f" ] || fail "apt-get remove deleted the conffile $f"; done
inside sh -c 'command -v memhygiene memhygiene-agent' && fail "the commands are still there after remove"
say "apt-get remove: the conffiles stay ($(echo $conffiles)), the edit too: $(tail -1 "$root/etc/memhygiene/memhygiene.yaml")"

inside apt-get purge -y -qq memhygiene memhygiene-agent >$t/purge.log 2>&1 || { cat $t/purge.log; fail "apt-get purge"; }
files > $t/files.purged
if ! diff $t/files.before $t/files.purged > $t/files.diff; then
  cat $t/files.diff; fail "after apt-get purge the file list differs from the one before the install"
fi
etc_sums > $t/etc.purged
changed=$(LC_ALL=C comm -3 $t/etc.before $t/etc.purged | awk '{print $2}' | sort -u | tr '\n' ' ')
[ "$changed" = "/etc/group /etc/group- /etc/gshadow /etc/gshadow- /etc/passwd /etc/passwd- /etc/shadow /etc/shadow- " ] \
  || [ "$changed" = "/etc/group /etc/gshadow /etc/passwd /etc/shadow " ] \
  || fail "after purge, /etc files changed besides the user databases: $changed"
inside dpkg -S /etc/memhygiene >/dev/null 2>&1 && fail "dpkg -S /etc/memhygiene still names a package"
[ -e "$root/etc/memhygiene" ] && fail "/etc/memhygiene is still there after purge"
say "apt-get purge: no file of the packages stays (file list as before the install: $(wc -l < $t/files.purged) entries);" \
  "/etc differs only in the user databases: the system user memhygiene stays, as debhelper leaves it"
inside apt-get autoclean -qq >/dev/null 2>&1 || true
say "PASSED"
INNER
