#!/usr/bin/env bash
# The dashboard's benchmark (docs/PERFORMANCE.md, "Dashboard"):
#  1. cold start to the first drawn chart of `memhygiene dashboard` (built-in host), against an empty
#     JavaFX stage started the same way (same class path, same JVM options), median of RUNS each;
#  2. frame times during live updates with 64 VMs and 24 h at 1 s in the charts (FrameHarness), against
#     an empty stage in the same JVM.
# Uses $DISPLAY if set, else xvfb-run if installed (apt-get install xvfb), else Monocle headless.
# Usage: bench/dashboard-perf.sh [RUNS] [SECONDS_PER_VIEW]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-5}
seconds=${2:-10}
jar="$root/cli/target/memhygiene-cli.jar"
[ -f "$jar" ] || (cd "$root" && ./mvnw -B -q -DskipTests -pl cli -am package)
# The memhygiene command's class path (bin/memhygiene's): the dashboard, EmptyStage and FrameHarness are in it.
cp="$jar:$root/cli/target/lib/*"
opts=(-XX:TieredStopAtLevel=1 -Xshare:auto -Xmx1g)
if [ -n "${DISPLAY:-}" ]; then
  where="display $DISPLAY"; wrap=()
elif command -v xvfb-run >/dev/null 2>&1; then
  where="Xvfb (xvfb-run)"; wrap=(xvfb-run -a -s "-screen 0 1920x1080x24")
else
  where="Monocle headless"; wrap=(); opts+=(-Dglass.platform=Monocle -Dmonocle.platform=Headless -Dprism.order=sw)
fi
echo "dashboard benchmark on $where, $(nproc) cores, $(java -version 2>&1 | head -1)"

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
empty=(); dash=()
for i in $(seq "$runs"); do
  empty+=("$("${wrap[@]}" java "${opts[@]}" -cp "$cp" org.memhygiene.ui.perf.EmptyStage | sed -n 's/^first-frame-millis=//p')")
  dash+=("$("${wrap[@]}" java "${opts[@]}" -Dmemhygiene.ui.timing=exit -cp "$cp" org.memhygiene.cli.MemhygieneCli dashboard 2>/dev/null \
    | sed -n 's/^first-chart-drawn-millis=//p')")
done
e=$(printf '%s\n' "${empty[@]}" | median)
d=$(printf '%s\n' "${dash[@]}" | median)
echo "cold start, empty stage (reference): ${empty[*]} ms -> median $e ms"
echo "cold start to first drawn chart:     ${dash[*]} ms -> median $d ms ($(awk -v d="$d" -v e="$e" 'BEGIN {printf "%.2f", d / e}') x the reference)"

"${wrap[@]}" java "${opts[@]}" -cp "$cp" org.memhygiene.ui.perf.FrameHarness "$root/bench/dashboard/64-vms.yaml" "$seconds" 24
