#!/usr/bin/env bash
# Issue 13's faults, tried against a built tree's shipped commands: bin/memhygiene run on a simulated host
# (docs/scenarios/web-farm.yaml, sampling every second) and bin/memhygiene-agent. For each fault it prints
# the command and what the daemon or agent did: samples per minute while the fault lasts, the daemon's
# VmRSS before and after, HTTP statuses, exit codes, messages. docs/RELIABILITY.md has the figures of
# this tree and of the release before the fixes (ROOT pointing at a build of it). The stalled stream
# clients are bench/stream-clients.sh's; the install script's uninstall is ServiceInstallScriptTest's.
#   usage: bench/reliability-faults.sh [ROOT [WINDOW_SECONDS]]   (defaults: this tree, 30)
# Needs curl and socat; builds nothing: build ROOT first (./mvnw -B -q -DskipTests -pl controller -am package).
set -uo pipefail
here=$(cd -P "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
root=$(cd -P "${1:-$here}" && pwd)
window=${2:-30}
port=9544
api="http://127.0.0.1:$port"
work=$(mktemp -d)
daemon=""
agent=""
cleanup() {
  [ -n "$daemon" ] && kill "$daemon" 2>/dev/null
  [ -n "$agent" ] && kill "$agent" 2>/dev/null
  jobs -p | xargs -r kill 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

samples() { curl -s --max-time 5 "$api/api/v1/status" | sed -n 's/.*"samples" *: *\([0-9]*\).*/\1/p'; }
rss() { awk '/^VmRSS/ {printf "%.0f MiB", $2 / 1024}' "/proc/$daemon/status" 2>/dev/null || echo "gone"; }
say() { printf '%s\n' "$*"; }

# during NAME COMMAND...: runs COMMAND in the background for the window; the daemon's samples per minute
# meanwhile and its VmRSS before and after.
faults=0
during() {
  local name=$1; shift
  local rss0 s0 t0 s1 t1 rss1
  faults=$((faults + 1))
  out="$work/fault-$faults.out"
  rss0=$(rss); s0=$(samples); t0=$(date +%s%N)
  "$@" > "$out" 2>&1 &
  local fault=$!
  sleep "$window"
  s1=$(samples); t1=$(date +%s%N); rss1=$(rss)
  kill "$fault" 2>/dev/null; wait "$fault" 2>/dev/null
  if [ -n "$s0" ] && [ -n "$s1" ]; then
    say "$name: $(awk -v a="$s0" -v b="$s1" -v t0="$t0" -v t1="$t1" 'BEGIN {printf "%.1f samples/min", (b - a) * 60e9 / (t1 - t0)}'), VmRSS $rss0 -> $rss1"
  else
    say "$name: the daemon did not answer /api/v1/status (samples $s0 -> $s1), VmRSS $rss0 -> $rss1"
  fi
  say "  what the clients got: $(sort "$out" | uniq -c | tr -s ' \n' ' ' | cut -c1-300)"
}

say "tree: $root, window ${window}s"
printf 'interval: 1s\ndry_run: true\napi:\n  port: %s\nhistory:\n  path: %s/state/history\n' "$port" "$work" > "$work/daemon.yaml"
# A permissive umask, as from an admin's shell: what the daemon creates should still be private.
(umask 022 && exec "$root/bin/memhygiene" run --config "$work/daemon.yaml" --scenario "$here/docs/scenarios/web-farm.yaml") \
  > "$work/daemon.log" 2>&1 &
daemon=$!
for _ in $(seq 600); do [ -n "$(samples)" ] && break; sleep 0.1; done
sleep 10 # warm-up
vm=$(curl -s "$api/api/v1/vms" | sed -n 's/.*"name" *: *"\([^"]*\)".*/\1/p' | head -1)

during "reference (no fault)" true

chunked() {
  for _ in 1 2 3 4; do
    head -c 83886080 /dev/zero | curl -s -o /dev/null -w 'HTTP %{http_code}\n' -X PUT -H 'Content-Type: application/json' \
      -H 'Transfer-Encoding: chunked' --data-binary @- "$api/api/v1/policy" &
  done
  wait
}
during "4 x PUT /api/v1/policy, 80 MiB chunked" chunked
say "  OutOfMemoryError in the daemon's log: $(grep -c OutOfMemoryError "$work/daemon.log")"

cross_site() {
  curl -s -o /dev/null -w 'scrub with Origin: http://evil.example, text/plain: HTTP %{http_code}\n' -X POST \
    -H 'Origin: http://evil.example' -H 'Content-Type: text/plain' -d '{"max_bytes": 4194304}' "$api/api/v1/vms/$vm/scrub"
  curl -s -o /dev/null -w 'PUT policy with Host: rebind.attacker.example: HTTP %{http_code}\n' -X PUT \
    -H 'Host: rebind.attacker.example' -H 'Content-Type: application/json' -d '{"dry_run": true}' "$api/api/v1/policy"
}
during "cross-site scrub and DNS-rebound PUT" cross_site

bodies() {
  curl -s -w ' HTTP %{http_code}\n' -X PUT -H 'Content-Type: application/json' -d '{"run":1,"run":2}' "$api/api/v1/settings"
  curl -s -w ' HTTP %{http_code}\n' -X PUT -H 'Content-Type: application/json' -d '{"mode":"off"} garbage' "$api/api/v1/policy"
  printf '{"mode":"off\xff"}' | curl -s -w ' HTTP %{http_code}\n' -X PUT -H 'Content-Type: application/json' --data-binary @- "$api/api/v1/policy"
  curl -s -w ' HTTP %{http_code}\n' "$api/api/v1/history?from=-999999999-01-01T00:00:00Z"
  curl -s -w ' HTTP %{http_code}\n' "$api/api/v1/$(head -c 20000 /dev/zero | tr '\0' x)"
  curl -s -w ' HTTP %{http_code}\n' -H "X-Big: $(head -c 20000 /dev/zero | tr '\0' y)" "$api/api/v1/status"
}
during "duplicate key, trailing garbage, invalid UTF-8, history from=-999999999, 20 KB URI, 20 KB header" bodies
say "  the answers, in order:"
sed 's/^/    /' "$out" | cut -c1-200
say "  policy mode now: $(curl -s "$api/api/v1/policy" | sed -n 's/.*"mode" *: *"\([a-z]*\)".*/\1/p' | head -1)"

say "state directory and history database (daemon started with umask 022): $(stat -c '%A' "$work/state") $(stat -c '%A' "$work/state/history.mv.db")"
say "memhygiene status --api http://127.0.0.1:1: $("$root/bin/memhygiene" status --api http://127.0.0.1:1 2>&1 | head -1)"
kill -TERM "$daemon"; wait "$daemon"; say "daemon on SIGTERM: exit $?"; daemon=""

for number in 99999999999999999999 18446744073709551716; do
  printf 'interval_millis: %s\n' "$number" > "$work/wrap.yaml"
  out=$(timeout 60 "$root/bin/memhygiene" run --config "$work/wrap.yaml" --scenario "$here/docs/scenarios/web-farm.yaml" 2>&1 | head -1)
  say "run with interval_millis: $number: exit ${PIPESTATUS[0]}: $out"
done
printf 'secret-secret-secret\n' > "$work/token"; chmod 644 "$work/token"
printf 'api:\n  port: %s\n  token_file: %s\n' "$port" "$work/token" > "$work/token.yaml"
out=$(timeout 60 "$root/bin/memhygiene" run --config "$work/token.yaml" --scenario "$here/docs/scenarios/web-farm.yaml" 2>&1 | head -1)
say "run with a 0644 token file: exit ${PIPESTATUS[0]}: $out"

# The agent
printf 'an admin file\n' > "$work/agent.file"
out=$(timeout 30 "$root/bin/memhygiene-agent" --listen "unix:$work/agent.file" 2>&1 | head -1)
say "agent --listen unix:FILE (a regular file): exit ${PIPESTATUS[0]}: $out; the file now: $(stat -c %F "$work/agent.file")"
out=$("$root/bin/memhygiene-agent" scrub --max-bytes 0 2>&1 | head -1); say "agent scrub --max-bytes 0: exit ${PIPESTATUS[0]}: $out"
sock="$work/agent.sock"
"$root/bin/memhygiene-agent" --listen "unix:$sock" > "$work/agent.log" 2>&1 &
agent=$!
for _ in $(seq 300); do [ -S "$sock" ] && break; sleep 0.1; done
sleep 1
ask() { printf '%s\n' "$1" | timeout 10 socat -t 5 - "UNIX-CONNECT:$sock" 2>/dev/null | head -1; }
say "agent, a key twice: $(ask '{"protocol":1,"id":1,"command":"hello","command":"scrub"}' | cut -c1-160)"
say "agent, two objects on a line: $(ask '{"protocol":1,"id":2,"command":"hello"}{"protocol":1,"id":3,"command":"scrub"}' | cut -c1-160)"
flood=$(for i in $(seq 100); do printf '{"protocol":1,"id":%s,"command":"hello"}\n' "$i"; done | timeout 10 socat -t 5 - "UNIX-CONNECT:$sock" 2>/dev/null \
  | grep rate_limited | head -1 | cut -c1-120)
say "agent, a rate_limited reply: $flood"
for _ in 1 2 3 4; do (sleep 120 | socat - "UNIX-CONNECT:$sock" > /dev/null 2>&1 &); done
sleep 1
t0=$(date +%s)
reply=""
while [ -z "$reply" ] && [ $(( $(date +%s) - t0 )) -lt 90 ]; do
  reply=$(ask '{"protocol":1,"id":9,"command":"hello"}')
  [ -n "$reply" ] || sleep 1
done
say "agent with 4 idle peers holding its places: a fifth peer answered after $(( $(date +%s) - t0 )) s: ${reply:0:60}"
kill -TERM "$agent"; wait "$agent"; say "agent on SIGTERM: exit $?"; agent=""
