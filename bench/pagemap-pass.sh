#!/usr/bin/env bash
# The guest-memory pass (pagemap + kpageflags) against reading smaps_rollup alone, per page, on real
# processes of this machine. Needs root, gcc and KSM; changes KSM knobs for a while and puts them back,
# under /tmp/memhygiene-ksm.lock. Figures go into docs/PERFORMANCE.md, "Guest memory: the pagemap pass".
#   usage: bench/pagemap-pass.sh [GIB [ROUNDS]]     (defaults: 4 GiB, 7 rounds)
set -euo pipefail
root=$(cd -P "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
command -v gcc >/dev/null || { echo "needs gcc (it builds the child process)" >&2; exit 1; }
./mvnw -B -q -DskipTests -pl bench -am package
java=${JAVA:-java}
# The daemon's own JVM flags (bin/memhygiene): the cost is the pass the daemon runs.
flags=$(sed -n 's/.*MEMHYGIENE_JAVA_OPTS:-\([^}]*\)}.*/\1/p' bin/memhygiene)
[ -n "$flags" ] || { echo "cannot find the daemon's JVM flags in bin/memhygiene" >&2; exit 1; }
echo "flags: $flags"
# Word splitting of the flags is intended.
# shellcheck disable=SC2086
exec flock /tmp/memhygiene-ksm.lock "$java" $flags -cp bench/target/benchmarks.jar \
  org.memhygiene.bench.guestmemory.PagemapPassCost "${1:-4}" "${2:-7}"
