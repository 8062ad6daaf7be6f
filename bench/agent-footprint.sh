#!/usr/bin/env bash
# The guest agent's own memory: VmRSS of the real agent process (bin/memhygiene-agent, its default JVM
# flags) idle and after 1 GiB scrubs, then idle reading the shipped agent.yaml (as the installed service
# does), against an idle JVM with the same flags measured in the same run.
# Figures go into docs/PERFORMANCE.md, "Guest agent: footprint".
#   usage: bench/agent-footprint.sh [GIB]      (default 1)
set -euo pipefail
root=$(cd -P "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
./mvnw -B -q -DskipTests -pl bench -am package
# The flags the launcher uses unless MEMHYGIENE_AGENT_JAVA_OPTS says otherwise.
flags=$(sed -n 's/^agent_java_opts="\(.*\)"$/\1/p' bin/memhygiene-agent)
[ -n "$flags" ] || { echo "cannot find agent_java_opts in bin/memhygiene-agent" >&2; exit 1; }
echo "== agent footprint ($(${JAVA:-java} -version 2>&1 | head -1); $(uname -r)); flags: $flags"
unset MEMHYGIENE_AGENT_JAVA_OPTS
"${JAVA:-java}" -cp bench/target/benchmarks.jar org.memhygiene.bench.agent.AgentFootprint \
  "$root/bin/memhygiene-agent" "$flags" "${1:-1}" "$root/guest-agent/src/main/dist/agent.yaml"
