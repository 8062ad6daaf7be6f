#!/usr/bin/env bash
# memhygiene's end-to-end proof on real VMs (issue 7; results: docs/RESULTS.md). Boots guests from
# vm-configs/dense.xml under libvirt (qemu:///system) with the guest agent inside, fills and frees their
# memory, and measures what the host gets back with real KSM: no scrub, the agent's scrub through the
# controller, init_on_free=1, free page reporting; then Debian's ksmtuned against the adaptive policy.
#
#   e2e/run.sh [--update-docs] [--accel auto|kvm|tcg]
#
# Needs root and a usable /dev/kvm (else it says why and exits 0: skipped). Installs what it needs
# (Debian), builds the guest image (cached by content under /var/cache/memhygiene-e2e), starts virtlogd
# and libvirtd when they are not running, and always cleans up: destroys and undefines its domains,
# stops the daemons it started (by pid) and puts every KSM knob back. Holds /tmp/memhygiene-ksm.lock,
# the lock every KSM user of this project takes. Exit 1 when an assertion failed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
args=("$@")
update_docs=0
accel=auto
while [ $# -gt 0 ]; do
  case $1 in
    --update-docs) update_docs=1 ;;
    --accel) accel=$2; shift ;;
    *) echo "e2e/run.sh: unknown option $1 (expected --update-docs, --accel auto|kvm|tcg)" >&2; exit 2 ;;
  esac
  shift
done

if [ "$(id -u)" -ne 0 ]; then
  echo "e2e: SKIPPED: needs root (libvirt's qemu:///system, KSM knobs)"; exit 0
fi
if [ ! -c /dev/kvm ] || ! { exec 8<>/dev/kvm; } 2>/dev/null; then
  echo "e2e: SKIPPED: /dev/kvm is not usable here (absent or cannot be opened)"; exit 0
fi
exec 8>&-
if [ ! -d /sys/kernel/mm/ksm ]; then
  echo "e2e: SKIPPED: this kernel has no KSM (/sys/kernel/mm/ksm)"; exit 0
fi
# The KSM lock, unless a process we run under holds it already (`flock /tmp/memhygiene-ksm.lock
# .ci/run`): taking it again from here would wait for ourselves forever.
lock=/tmp/memhygiene-ksm.lock
lock_held_by_an_ancestor() {
  [ -e "$lock" ] || return 1
  local ino holders p h
  ino=$(stat -c %i "$lock")
  # /proc/locks: "1: FLOCK ADVISORY WRITE PID MAJ:MIN:INODE 0 EOF" (waiters are "1: -> FLOCK ...").
  holders=$(awk -v ino="$ino" '$2 == "FLOCK" { n = split($6, a, ":"); if (a[n] == ino) print $5 }' /proc/locks)
  p=$$
  while [ "$p" -gt 1 ]; do
    for h in $holders; do [ "$h" = "$p" ] && return 0; done
    p=$(awk '{ print $4 }' "/proc/$p/stat")
  done
  return 1
}
if [ -z "${E2E_LOCKED:-}" ] && ! lock_held_by_an_ancestor; then
  E2E_LOCKED=1 exec flock "$lock" "$0" "${args[@]}"
fi
began=$(date +%s)
step() { echo "e2e: [$(( $(date +%s) - began )) s] $*" >&2; }

# 1. What it needs.
need=()
[ -x /usr/sbin/libvirtd ] || need+=(libvirt-daemon-system)
command -v virsh >/dev/null 2>&1 || need+=(libvirt-clients)
command -v qemu-system-x86_64 >/dev/null 2>&1 || need+=(qemu-system-x86)
dpkg-query -W -f='${Status}' linux-image-amd64 2>/dev/null | grep -q 'ok installed' || need+=(linux-image-amd64)
[ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 || need+=(busybox-static)
command -v jlink >/dev/null 2>&1 || need+=(openjdk-17-jdk-headless)
[ -f /usr/sbin/ksmtuned ] || need+=(ksmtuned)
command -v cpio >/dev/null 2>&1 || need+=(cpio)
command -v unzip >/dev/null 2>&1 || need+=(unzip)
if [ ${#need[@]} -gt 0 ]; then
  step "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# The jars: built by ./mvnw -B verify before this runs in CI; built here when missing.
if [ ! -f cli/target/memhygiene-cli.jar ] || [ ! -f guest-agent/target/memhygiene-guest-agent.jar ] \
   || [ ! -f bench/target/benchmarks.jar ]; then
  step "building the jars"
  ./mvnw -B -q -DskipTests -pl cli,bench -am package
fi

# 2. The guest image.
step "guest image"
image=$(e2e/build-image.sh)

# 7 (armed before anything changes). Cleanup, also on failure or Ctrl-C.
ksm=/sys/kernel/mm/ksm
knobs=(run pages_to_scan sleep_millisecs use_zero_pages smart_scan stable_node_chains_prune_millisecs
       advisor_max_cpu advisor_min_pages_to_scan advisor_max_pages_to_scan advisor_target_scan_time)
declare -A saved
for k in "${knobs[@]}"; do [ -f "$ksm/$k" ] && saved[$k]=$(cat "$ksm/$k"); done
started_pids=()
state=$(mktemp -d /tmp/memhygiene-e2e-state.XXXXXX)   # the suite leaves the pids of its tuners here
# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
  local rc=$?
  set +e
  # A tuner (ksmtuned's loop, memhygiene run) the suite could not stop would go on writing KSM knobs.
  for f in "$state"/*.pid; do
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    if kill -0 "$pid" 2>/dev/null; then kill "$pid"; step "stopped a tuner left running (pid $pid, $(basename "$f" .pid))"; fi
  done
  rm -rf "$state"
  for d in $(virsh -q -c qemu:///system list --all --name 2>/dev/null | grep '^memhygiene-e2e-'); do
    virsh -q -c qemu:///system destroy "$d" >/dev/null 2>&1
    virsh -q -c qemu:///system undefine "$d" >/dev/null 2>&1
  done
  echo 0 > "$ksm/run"
  for k in "${knobs[@]}"; do
    [ "$k" = run ] && continue
    if [ -n "${saved[$k]:-}" ] && [ "$(cat "$ksm/$k")" != "${saved[$k]}" ]; then echo "${saved[$k]}" > "$ksm/$k"; fi
  done
  echo "${saved[run]}" > "$ksm/run"
  for k in "${knobs[@]}"; do
    if [ -n "${saved[$k]:-}" ] && [ "$(cat "$ksm/$k")" != "${saved[$k]}" ]; then
      echo "e2e: WARNING: could not put KSM $k back to ${saved[$k]} (now $(cat "$ksm/$k"))" >&2
    fi
  done
  for pid in "${started_pids[@]}"; do
    kill "$pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  done
  step "cleaned up: domains destroyed and undefined, KSM knobs restored, stopped daemon pids: ${started_pids[*]:-none}"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 3. libvirt without systemd: virtlogd and libvirtd by hand, unless they already run.
start_daemon() { # NAME PIDFILE
  if [ -f "$2" ] && kill -0 "$(cat "$2")" 2>/dev/null; then return 0; fi
  "/usr/sbin/$1" -d
  for _ in $(seq 100); do [ -s "$2" ] && break; sleep 0.1; done
  started_pids+=("$(cat "$2")")
  step "started $1 (pid $(cat "$2"))"
}
start_daemon virtlogd /run/virtlogd.pid
start_daemon libvirtd /run/libvirtd.pid
for _ in $(seq 100); do virsh -q -c qemu:///system version >/dev/null 2>&1 && break; sleep 0.2; done

# 4-6. The suite.
results=bench/target/e2e/results.md
step "suite (image $image)"
set +e
java -XX:+UseSerialGC -cp bench/target/benchmarks.jar org.memhygiene.bench.e2e.E2eSuite \
  --repo "$root" --image "$image" --results "$results" --accel "$accel" --state "$state"
rc=$?
set -e
if [ $update_docs -eq 1 ] && [ -s "$results" ]; then
  # Between the markers of docs/RESULTS.md; the prose around them is kept.
  awk -v f="$results" '
    /<!-- e2e:begin -->/ { print; while ((getline line < f) > 0) print line; skip = 1; next }
    /<!-- e2e:end -->/ { skip = 0 }
    !skip' docs/RESULTS.md > docs/RESULTS.md.new && mv docs/RESULTS.md.new docs/RESULTS.md
  step "docs/RESULTS.md updated"
fi
step "done (exit $rc)"
exit $rc
