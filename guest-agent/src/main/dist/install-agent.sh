#!/usr/bin/env bash
# Installs (or with --uninstall removes) the memhygiene guest agent on a systemd Linux guest:
#   /opt/memhygiene-agent/{memhygiene-guest-agent.jar,lib/*.jar,lib/jna/*/libjnidispatch.so,bin/memhygiene-agent}
#   /etc/systemd/system/memhygiene-agent.service
#   /etc/udev/rules.d/60-memhygiene-agent.rules
#   /etc/sysusers.d/memhygiene-agent.conf
#   /etc/memhygiene/agent.yaml            (only if absent: an existing, edited config is never replaced)
# and creates the system user/group memhygiene. Idempotent: a second run changes nothing.
#
# Usage: install-agent.sh [--root DIR] [--jar FILE] [--lib DIR] [--uninstall]
#   --root DIR   install into the image rooted at DIR (no user creation, no systemctl/udevadm)
#   --jar FILE   the agent jar   (default: guest-agent/target/memhygiene-guest-agent.jar of this tree)
#   --lib DIR    its dependencies (default: guest-agent/target/lib of this tree)
#   --uninstall  remove what install put there; the user/group stay, an edited config stays
set -euo pipefail

dist=$(cd -P "$(dirname "${BASH_SOURCE[0]}")" && pwd)
target="$dist/../../../target"
root=""
jar="$target/memhygiene-guest-agent.jar"
lib="$target/lib"
uninstall=false

usage() { sed -n '2,16s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }
die() { echo "install-agent.sh: $*" >&2; exit 1; }
say() { echo "install-agent.sh: $*"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --root) [ $# -ge 2 ] || die "--root needs a directory"; root="$2"; shift 2 ;;
    --jar) [ $# -ge 2 ] || die "--jar needs a file"; jar="$2"; shift 2 ;;
    --lib) [ $# -ge 2 ] || die "--lib needs a directory"; lib="$2"; shift 2 ;;
    --uninstall) uninstall=true; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
if [ -n "$root" ]; then
  [ -d "$root" ] || die "--root $root is not a directory"
  root=$(cd -P "$root" && pwd)
  [ "$root" != / ] || root=""
fi

home=/opt/memhygiene-agent
unit=/etc/systemd/system/memhygiene-agent.service
rules=/etc/udev/rules.d/60-memhygiene-agent.rules
sysusers=/etc/sysusers.d/memhygiene-agent.conf
config=/etc/memhygiene/agent.yaml
# The unit's CacheDirectory= (JNA's unpacked native library), created by systemd, not by us.
cache=/var/cache/memhygiene-agent
# The shipped config, kept to tell an edited config from an untouched one on --uninstall.
config_dist=$home/share/agent.yaml.dist

# Systemd is managing this machine (sd_booted(3)) and we install into it, not into an image.
live() { [ -z "$root" ] && [ -d /run/systemd/system ]; }

# put MODE SRC DEST: install SRC as ROOT/DEST unless it is already there, identical and with MODE.
put() {
  local mode="$1" src="$2" dest="$root$3"
  [ -f "$src" ] || die "missing $src"
  if [ -f "$dest" ] && cmp -s "$src" "$dest" && [ "$(stat -c %a "$dest")" = "${mode#0}" ]; then
    return 0
  fi
  install -D -m "$mode" "$src" "$dest"
  say "installed $3"
}

# dir MODE DEST: create ROOT/DEST with MODE if missing.
dir() {
  if [ ! -d "$root$2" ]; then install -d -m "$1" "$root$2"; say "created $2/"; fi
}

do_install() {
  [ -f "$jar" ] || die "no agent jar at $jar (build it: ./mvnw -B -q -DskipTests -pl guest-agent -am package)"
  [ -d "$lib" ] || die "no dependency directory at $lib"

  dir 0755 "$home"
  dir 0755 "$home/bin"
  dir 0755 "$home/lib"
  dir 0755 "$home/share"
  put 0644 "$jar" "$home/memhygiene-guest-agent.jar"
  local f name
  for f in "$lib"/*.jar; do
    [ -e "$f" ] || continue
    put 0644 "$f" "$home/lib/$(basename "$f")"
  done
  # JNA's native half per architecture, loaded in place by the launcher (bin/memhygiene-agent).
  for f in "$lib"/jna/*/libjnidispatch.so; do
    [ -e "$f" ] || continue
    name=${f#"$lib/"}
    dir 0755 "$home/lib/jna"
    dir 0755 "$home/lib/$(dirname "$name")"
    put 0644 "$f" "$home/lib/$name"
  done
  # Jars and native libraries of an older build that the new one no longer has.
  for f in "$root$home/lib"/*.jar "$root$home/lib"/jna/*/libjnidispatch.so; do
    [ -e "$f" ] || continue
    name=${f#"$root$home/lib/"}
    if [ ! -e "$lib/$name" ]; then rm -f "$f"; say "removed stale $home/lib/$name"; fi
  done
  put 0755 "$dist/memhygiene-agent" "$home/bin/memhygiene-agent"
  put 0644 "$dist/agent.yaml" "$config_dist"
  put 0644 "$dist/memhygiene-agent.service" "$unit"
  put 0644 "$dist/60-memhygiene-agent.rules" "$rules"
  put 0644 "$dist/memhygiene-agent.sysusers" "$sysusers"
  dir 0755 /etc/memhygiene
  if [ -e "$root$config" ]; then
    cmp -s "$dist/agent.yaml" "$root$config" || say "kept the existing $config (edited); the shipped example is $config_dist"
  else
    install -m 0644 "$dist/agent.yaml" "$root$config"
    say "installed $config"
  fi

  if [ -n "$root" ]; then
    say "--root given: not creating user memhygiene, not touching systemd or udev"
    return 0
  fi
  if ! getent group memhygiene >/dev/null || ! getent passwd memhygiene >/dev/null; then
    if command -v systemd-sysusers >/dev/null; then
      systemd-sysusers "$sysusers"
    else
      getent group memhygiene >/dev/null || groupadd --system memhygiene
      getent passwd memhygiene >/dev/null || useradd --system --gid memhygiene --no-create-home \
        --home-dir / --shell /usr/sbin/nologin --comment "memhygiene guest agent" memhygiene
    fi
    say "created system user and group memhygiene"
  fi
  if command -v udevadm >/dev/null && [ -d /run/udev ]; then
    udevadm control --reload
    udevadm trigger --subsystem-match=virtio-ports --action=add
  fi
  if live; then
    systemctl daemon-reload
    systemctl enable --now memhygiene-agent.service
  else
    say "systemd is not running (no /run/systemd/system): enable memhygiene-agent.service yourself"
  fi
}

do_uninstall() {
  if live && [ -e "$unit" ]; then
    systemctl disable --now memhygiene-agent.service || true
  fi
  local p
  for p in "$unit" "$rules" "$sysusers" "$home/bin/memhygiene-agent" "$home/memhygiene-guest-agent.jar"; do
    if [ -e "$root$p" ]; then rm -f "$root$p"; say "removed $p"; fi
  done
  # $root is empty on a live system (the "${root:?}" that stood here stopped the script half-way); $home
  # and $cache are absolute constants, so neither path can be / whatever $root is.
  if [ -d "$root$home/lib" ]; then rm -rf -- "$root${home:?}/lib"; say "removed $home/lib/"; fi
  if [ -e "$root$config" ]; then
    if [ -e "$root$config_dist" ] && cmp -s "$root$config_dist" "$root$config"; then
      rm -f "$root$config"; say "removed $config"
    else
      say "kept $config: it was edited"
    fi
  fi
  rm -f "$root$config_dist"
  if [ -d "$root$cache" ]; then rm -rf -- "$root$cache"; say "removed $cache/"; fi
  local d
  for d in "$home/share" "$home/bin" "$home" /etc/memhygiene; do
    if [ -d "$root$d" ]; then rmdir --ignore-fail-on-non-empty "$root$d"; fi
  done
  if live; then systemctl daemon-reload; fi
  if [ -z "$root" ] && command -v udevadm >/dev/null && [ -d /run/udev ]; then udevadm control --reload; fi
  say "user and group memhygiene are kept (remove them with userdel memhygiene if nothing else uses them)"
}

if $uninstall; then do_uninstall; else do_install; fi
