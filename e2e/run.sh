#!/usr/bin/env bash
# memhygiene's end-to-end proof on real VMs (results: docs/RESULTS.md). Boots guests from
# vm-configs/dense.xml under libvirt (qemu:///system) with the guest agent inside, fills and frees their
# memory, and measures what the host gets back with real KSM: no scrub, the agent's scrub through the
# controller, init_on_free=1, free page reporting; then Debian's ksmtuned against the adaptive policy.
# The suite is JUnit, one test per phase (bench/src/test/java/org/memhygiene/bench/e2e/RealVmIT.java);
# `./mvnw -B verify` runs it with failsafe (bench's profile e2e, active unless -De2e.skip=true).
#
#   e2e/run.sh [--update-docs] [--accel auto|kvm|tcg]
#       Runs the suite with the JUnit console launcher (after building it when a source is newer than
#       the build) and prints the results; --update-docs also writes them into docs/RESULTS.md.
#       Exit 1 when a phase failed.
#   e2e/run.sh --fixture
#       What the suite starts first, whichever way it runs; not for people. Takes the KSM lock
#       (/tmp/memhygiene-ksm.lock, the lock every KSM user of this project takes), installs what the
#       suite needs (Debian), builds the guest image (cached by content under /var/cache/memhygiene-e2e)
#       and starts virtlogd and libvirtd when they are not running; then answers one line on standard
#       output, "ready<TAB>IMAGE<TAB>STATE" or "skip<TAB>REASON", logs on standard error, and holds all of
#       it until its standard input closes (the suite is done, or its JVM died). Then it always cleans up:
#       destroys and undefines every memhygiene-e2e-* domain, stops a tuner whose pid the suite left in
#       STATE, stops the daemons it started (by pid) and puts every KSM knob back.
#
# Needs root and KSM (else it says why and exits 0: skipped); KVM where /dev/kvm is usable, else TCG.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
args=("$@")
fixture=0
update_docs=false
accel=auto
while [ $# -gt 0 ]; do
  case $1 in
    --fixture) fixture=1 ;;
    --update-docs) update_docs=true ;;
    --accel)
      case ${2:-} in
        auto|kvm|tcg) accel=$2; shift ;;
        *) echo "e2e/run.sh: --accel takes auto, kvm or tcg, not \"${2:-}\"" >&2; exit 2 ;;
      esac ;;
    *) echo "e2e/run.sh: unknown option $1 (expected --update-docs, --accel auto|kvm|tcg)" >&2; exit 2 ;;
  esac
  shift
done
began=$(date +%s)
step() { echo "e2e: [$(( $(date +%s) - began )) s] $*" >&2; }
skip() {
  if [ $fixture -eq 1 ]; then printf 'skip\t%s\n' "$1"; else echo "e2e: SKIPPED: $1"; fi
  exit 0
}

if [ "$(id -u)" -ne 0 ]; then
  skip "needs root (libvirt's qemu:///system, KSM knobs)"
fi
# No /dev/kvm is needed: without a usable one the guests run under QEMU's TCG (Fleet says so in the
# results), where the memory effects the suite measures are the same.
if [ ! -d /sys/kernel/mm/ksm ]; then
  skip "this kernel has no KSM (/sys/kernel/mm/ksm)"
fi

# What the suite needs on the host.
install_needs() {
  local need=()
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
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
}

if [ $fixture -eq 0 ]; then
  # The suite, with the JUnit console launcher on bench's test class path (written by bench's package
  # phase). Built here when it is not, or when a source is newer than the build: ./mvnw -B verify builds
  # it before it runs the suite itself.
  install_needs
  classpath=bench/target/e2e-classpath.txt
  built=bench/target/test-classes/org/memhygiene/bench/e2e/RealVmIT.class
  # The suite runs bin/memhygiene, whose jars are cli's (cli/target/lib): those are built and compared too, so
  # that a source changed since (or compiled by a test run alone) never leaves the suite on an older daemon.
  jar=cli/target/memhygiene-cli.jar
  if [ ! -s "$classpath" ] || [ ! -f "$built" ] || [ ! -f guest-agent/target/memhygiene-guest-agent.jar ] || [ ! -f "$jar" ] \
     || [ -n "$(find core/src secret-memory/src controller/src simulator/src guest-agent/src cli/src bench/src pom.xml \
                 -newer "$built" -type f -print -quit)" ] \
     || [ -n "$(find core/src secret-memory/src controller/src simulator/src guest-agent/src cli/src pom.xml \
                 -newer "$jar" -type f -print -quit)" ]; then
    step "building the suite and the jars"
    ./mvnw -B -q -DskipTests -pl cli,bench -am package
  fi
  mkdir -p bench/target/e2e
  set +e
  java -XX:+UseSerialGC -De2e.repo="$root" -De2e.accel="$accel" -De2e.updateDocs="$update_docs" \
    -cp "bench/target/test-classes:bench/target/classes:$(cat "$classpath")" \
    org.junit.platform.console.ConsoleLauncher execute --disable-banner --disable-ansi-colors --details=tree \
    --fail-if-no-tests --reports-dir=bench/target/e2e/junit --select-class=org.memhygiene.bench.e2e.RealVmIT
  rc=$?
  set -e
  step "done (exit $rc; JUnit report in bench/target/e2e/junit)"
  exit $rc
fi

# --fixture from here on. The KSM lock, unless a process we run under holds it already (`flock
# /tmp/memhygiene-ksm.lock ./mvnw -B verify`): taking it again from here would wait for ourselves forever.
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
  step "waiting for $lock"
  E2E_LOCKED=1 exec flock "$lock" "$0" "${args[@]}"
fi
# Standard output is the suite's answer (fd 3); everything else goes to standard error. A suite whose JVM
# died leaves no reader on either pipe: a write must not kill the cleanup (SIGPIPE ignored).
exec 3>&1 1>&2
trap '' PIPE

install_needs
# The jars: ./mvnw -B verify and the launcher above built them; build-image.sh says so when one is missing.
step "guest image"
image=$(e2e/build-image.sh)

# Cleanup, armed before anything changes; also on failure, on SIGTERM, and when the suite's JVM dies.
ksm=/sys/kernel/mm/ksm
knobs=(run pages_to_scan sleep_millisecs use_zero_pages smart_scan stable_node_chains_prune_millisecs
       advisor_max_cpu advisor_min_pages_to_scan advisor_max_pages_to_scan advisor_target_scan_time)
declare -A saved
for k in "${knobs[@]}"; do [ -f "$ksm/$k" ] && saved[$k]=$(cat "$ksm/$k"); done
knob_values() { local k; for k in "${knobs[@]}"; do [ -f "$ksm/$k" ] && printf ' %s=%s' "$k" "$(cat "$ksm/$k")"; done; }
step "KSM knobs as found:$(knob_values)"
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
  step "cleaned up: domains destroyed and undefined, stopped daemon pids: ${started_pids[*]:-none}; KSM knobs put back:$(knob_values)"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# libvirt without systemd: virtlogd and libvirtd by hand, unless they already run.
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

step "host ready for the suite (image $image)"
printf 'ready\t%s\t%s\n' "$image" "$state" >&3
exec 3>&-
# Ctrl-C reaches the suite's JVM too: the cleanup waits for it to end, so that no guest starts after it.
trap '' INT
cat >/dev/null || true
step "the suite is done"
