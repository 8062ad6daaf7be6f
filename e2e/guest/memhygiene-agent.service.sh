#!/bin/sh
# Stands in for memhygiene-agent.service under busybox init, which respawns it like Restart=on-failure.
# The unit itself cannot run here (no systemd); the agent's tests verify it with systemd-analyze
# (guest-agent ServiceUnitTest). What the unit does that matters for this test is kept: its condition
# (the port exists), its environment, User=/Group=memhygiene with no capabilities (CapabilityBoundingSet=),
# Nice=19 and OOMScoreAdjust=500, IOSchedulingClass=idle, LimitMEMLOCK=8M (the canary's locked pages).
port=/dev/virtio-ports/org.memhygiene.agent.0
if [ ! -e "$port" ]; then sleep 5; exit 0; fi     # ConditionPathExists=
export MEMHYGIENE_AGENT_CONFIG=/etc/memhygiene/agent.yaml
export XDG_CACHE_HOME=/var/cache/memhygiene-agent
export JAVA=/opt/memhygiene-agent/jre/bin/java
echo 500 > /proc/self/oom_score_adj   # OOMScoreAdjust=500
renice -n 19 -p $$ >/dev/null         # Nice=19
ionice -c 3 -p $$                     # IOSchedulingClass=idle
ulimit -l 8192                        # LimitMEMLOCK=8M
sleep 1  # RestartSec= (busybox init respawns at once)
exec /usr/local/bin/setpriv --reuid memhygiene --regid memhygiene --init-groups \
  --bounding-set -all --inh-caps -all \
  /opt/memhygiene-agent/bin/memhygiene-agent > /dev/ttyS0 2>&1
