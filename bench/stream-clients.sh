#!/usr/bin/env bash
# Issue 13's stalled stream clients against the shipped daemon (bin/memhygiene run --scenario): samples per
# interval with STALLED clients that never read and READING clients that read everything, beside the same
# daemon alone in the same run, and its VmRSS. Figures go into docs/RELIABILITY.md.
#   usage: bench/stream-clients.sh [STALLED [READING [WINDOW_SECONDS [SCENARIO]]]]
#          (defaults: 4, 500, 60, docs/scenarios/web-farm.yaml)
set -euo pipefail
root=$(cd -P "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
./mvnw -B -q -DskipTests -pl bench -am package
unset MEMHYGIENE_JAVA_OPTS
"${JAVA:-java}" -cp bench/target/benchmarks.jar org.memhygiene.bench.daemon.StreamClients \
  "$root/bin/memhygiene" "${4:-$root/docs/scenarios/web-farm.yaml}" "${1:-4}" "${2:-500}" "${3:-60}"
