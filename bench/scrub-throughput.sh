#!/usr/bin/env bash
# Guest agent scrub throughput against a C reference (the agent's footprint: bench/agent-footprint.sh).
# Figures go into docs/PERFORMANCE.md, "Guest agent: scrub throughput".
#   usage: bench/scrub-throughput.sh [GIB [ROUNDS]]     (defaults: 1 GiB, 7 rounds)
set -euo pipefail
root=$(cd -P "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
gib=${1:-1}
rounds=${2:-7}
cd "$root"
mkdir -p bench/target
gcc -O2 -Wall -Wextra -o bench/target/scrub_reference bench/c/scrub_reference.c
./mvnw -B -q -DskipTests -pl bench -am package
jar=bench/target/benchmarks.jar
java=${JAVA:-java}
# The Java side runs with the agent's own JVM flags (bin/memhygiene-agent), -Xint included: the figure
# is the scrub the agent does, not one a JIT-compiled harness would.
flags=$(sed -n 's/^agent_java_opts="\(.*\)"$/\1/p' bin/memhygiene-agent)
[ -n "$flags" ] || { echo "cannot find agent_java_opts in bin/memhygiene-agent" >&2; exit 1; }
echo "== throughput (C reference vs Java scrubber; $("$java" -version 2>&1 | head -1); $(uname -r)); flags: $flags"
# Word splitting of the flags is intended.
# shellcheck disable=SC2086
"$java" $flags -cp "$jar" org.memhygiene.bench.scrub.ScrubThroughput throughput bench/target/scrub_reference "$gib" "$rounds"
