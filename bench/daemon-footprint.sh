#!/usr/bin/env bash
# The daemon's CPU, RSS and API latency with 50 test-driver domains of 4 GiB whose QEMU processes are real
# processes of this machine (their guest RAM measured page by page), their agents at 1 Hz: with guest memory
# off, by smaps_rollup alone, and by the pass (with memhygiene.service's capabilities, and as root), beside a
# daemon with no domains, in one run. Needs root, gcc and setpriv (util-linux). Figures go into
# docs/PERFORMANCE.md, "Controller: the daemon".
#   usage: [WARMUP_SECONDS=45] bench/daemon-footprint.sh [DOMAINS [WINDOW_SECONDS [GUEST_MIB [SETUPS]]]]
#          (defaults: 50, 60, 4096, all; SETUPS e.g. 1,3: the numbers of the setups with domains to run)
set -euo pipefail
root=$(cd -P "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
command -v gcc >/dev/null || { echo "needs gcc (it builds the stand-in QEMU processes)" >&2; exit 1; }
command -v setpriv >/dev/null || { echo "needs setpriv (util-linux) to run the daemon with the unit's capabilities" >&2; exit 1; }
./mvnw -B -q -DskipTests -pl cli,bench -am package
unset MEMHYGIENE_JAVA_OPTS
"${JAVA:-java}" -Dfootprint.warmupSeconds="${WARMUP_SECONDS:-45}" \
  -cp bench/target/benchmarks.jar org.memhygiene.bench.daemon.DaemonFootprint \
  "$root/bin/memhygiene" "${1:-50}" "${2:-60}" "${3:-4096}" ${4:+"$4"}
