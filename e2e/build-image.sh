#!/usr/bin/env bash
# Builds the e2e guest image: Debian's kernel (direct kernel boot) and an initramfs holding busybox,
# the virtio modules of that kernel, a jlink'd JRE of just the modules the agent needs (jdeps), the
# agent's jars, launcher and configuration, and busybox init running the agent as a service.
# Reproducible: sorted cpio with fixed times and owners, gzip -n. Cached by content: the image lands in
# $E2E_CACHE/image-<sha256 of every input> and is reused while no input changes.
# Prints the image directory on stdout (kernel: vmlinuz, initrd: initrd.img, manifest.txt).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${E2E_CACHE:-/var/cache/memhygiene-e2e}
guest="$root/e2e/guest"
agent_jar="$root/guest-agent/target/memhygiene-guest-agent.jar"
agent_lib="$root/guest-agent/target/lib"
[ -f "$agent_jar" ] || { echo "build-image: $agent_jar missing: build it first (./mvnw -B -DskipTests -pl guest-agent -am package)" >&2; exit 1; }
agent_launcher="$root/guest-agent/src/main/dist/memhygiene-agent"
# The agent as admins install it: the memhygiene-agent package, when the build made one after the agent's jar
# (./mvnw verify builds packaging/ before bench/), unpacked as dpkg does; else guest-agent/target's jars.
agent_deb=""
for deb in "$root"/packaging/target/memhygiene-agent_*_all.deb; do if [ "$deb" -nt "$agent_jar" ]; then agent_deb=$deb; fi; done
if [ -n "$agent_deb" ]; then
  rm -rf "$cache/agent-deb" && mkdir -p "$cache/agent-deb" && dpkg-deb -x "$agent_deb" "$cache/agent-deb"
  agent_jar="$cache/agent-deb/usr/share/memhygiene-agent/memhygiene-guest-agent.jar"
  agent_lib="$cache/agent-deb/usr/share/memhygiene-agent/lib"
  agent_launcher="$cache/agent-deb/usr/share/memhygiene-agent/bin/memhygiene-agent"
  echo "build-image: the agent from ${agent_deb#"$root/"}" >&2
fi

# The kernel linux-image-amd64 depends on (linux-image-6.1.0-57-amd64 -> 6.1.0-57-amd64).
kpkg=$(dpkg-query -W -f='${Depends}' linux-image-amd64 | grep -o 'linux-image-[^ ,]*' | head -1)
kver=${kpkg#linux-image-}
kernel=/boot/vmlinuz-$kver
moddir=/lib/modules/$kver
{ [ -f "$kernel" ] && [ -d "$moddir" ]; } || { echo "build-image: $kernel or $moddir missing (apt-get install linux-image-amd64)" >&2; exit 1; }
busybox=/bin/busybox   # busybox-static's: the initramfs has no libc for it
! ldd "$busybox" >/dev/null 2>&1 \
  || { echo "build-image: $busybox is not static (apt-get install busybox-static)" >&2; exit 1; }
jdk=$(dirname "$(dirname "$(readlink -f "$(command -v jlink)")")")

# The agent's modules, as jdeps finds them in the agent and its libraries; remembered per content of
# the jars and the JDK (jdeps takes most of a cached run's time).
mkdir -p "$cache"
deps_key=$( { sha256sum "$agent_jar" "$agent_lib"/*.jar; cat "$jdk/release"; } | sed "s#$root/##" | sha256sum | cut -c1-16)
if [ -s "$cache/jdeps-$deps_key" ]; then
  modules=$(cat "$cache/jdeps-$deps_key")
else
  modules=$(jdeps --print-module-deps --ignore-missing-deps --multi-release 17 \
    --class-path "$agent_lib/*" "$agent_jar" 2>/dev/null | tail -1)
  [ -n "$modules" ] && echo "$modules" > "$cache/jdeps-$deps_key"
fi
# The modules the kernel needs for the devices the domain has (virtio-serial ports, the balloon),
# with their dependencies first, as modules.dep gives them.
wanted="kernel/drivers/char/virtio_console.ko kernel/drivers/virtio/virtio_balloon.ko kernel/drivers/virtio/virtio_pci.ko"
order=()
add_module() {
  local m=$1 dep
  for seen in "${order[@]:-}"; do [ "$seen" = "$m" ] && return 0; done
  # shellcheck disable=SC2013  # modules.dep lists the dependencies as words on one line
  for dep in $(awk -v m="$m:" '$1 == m { $1 = ""; print }' "$moddir/modules.dep"); do add_module "$dep"; done
  order+=("$m")
}
for m in $wanted; do add_module "$m"; done

# The cache key: every input's content.
key=$( {
  echo "kernel $kver"; sha256sum "$kernel"
  for m in "${order[@]}"; do sha256sum "$moddir/$m"; done
  sha256sum "$busybox" /usr/bin/setpriv; cat "$jdk/release"; echo "modules $modules"
  sha256sum "$agent_jar" "$agent_lib"/*.jar "$agent_launcher"
  sha256sum "$guest"/* "$0"
} | sed "s#$root/##" | sha256sum | cut -c1-16)
out="$cache/image-$key"
if [ -f "$out/initrd.img" ] && [ -f "$out/vmlinuz" ]; then
  echo "build-image: cached $out" >&2
  echo "$out"; exit 0
fi

echo "build-image: building $out (kernel $kver, JRE modules $modules)" >&2
work=$(mktemp -d "${TMPDIR:-/tmp}/memhygiene-e2e-image.XXXXXX")
trap 'rm -rf "$work"' EXIT
fs="$work/fs"
mkdir -p "$fs"/{bin,sbin,etc/memhygiene,etc/services,lib64,opt/memhygiene-agent/bin,opt/memhygiene-agent/lib,var/cache,root}

install -m 0755 "$busybox" "$fs/bin/busybox"
install -m 0755 "$guest/init" "$fs/init"
install -m 0644 "$guest/inittab" "$fs/etc/inittab"
install -m 0755 "$guest/memhygiene-agent.service.sh" "$fs/etc/services/memhygiene-agent"
install -m 0755 "$guest/e2e-control.sh" "$fs/etc/services/e2e-control"
install -m 0644 "$guest/agent.yaml" "$fs/etc/memhygiene/agent.yaml"
printf 'root:x:0:0:root:/root:/bin/sh\nmemhygiene:x:998:998:memhygiene agent:/nonexistent:/bin/false\n' > "$fs/etc/passwd"
printf 'root:x:0:\nmemhygiene:x:998:\n' > "$fs/etc/group"

for m in "${order[@]}"; do install -D -m 0644 "$moddir/$m" "$fs/lib/modules/$kver/$m"; done
printf '%s\n' "${order[@]}" > "$fs/etc/modules.order"

# The agent as install-agent.sh lays it out in /opt/memhygiene-agent, with its own JRE beside it.
install -m 0644 "$agent_jar" "$fs/opt/memhygiene-agent/memhygiene-guest-agent.jar"
install -m 0644 "$agent_lib"/*.jar "$fs/opt/memhygiene-agent/lib/"
install -m 0755 "$agent_launcher" "$fs/opt/memhygiene-agent/bin/memhygiene-agent"
jre="$fs/opt/memhygiene-agent/jre"
jlink --add-modules "$modules" --output "$jre" --strip-debug --no-man-pages --no-header-files \
  --compress=2 --strip-native-debug-symbols=exclude-debuginfo-files --dedup-legal-notices=error-if-not-same-content
# No class data sharing archive (the launcher's -Xshare:auto then runs without one): JDK 17's
# -Xshare:dump writes a different classes.jsa on every run, and the image must be reproducible.

# util-linux's setpriv drops to the agent's user with no capabilities, as the unit's User= and
# CapabilityBoundingSet= do (busybox's setpriv cannot change the user).
install -D -m 0755 /usr/bin/setpriv "$fs/usr/local/bin/setpriv"

# glibc and the other shared libraries the JRE, JNA's native part and setpriv load (busybox is static).
unzip -q -o -j "$agent_lib"/jna-*.jar 'com/sun/jna/linux-x86-64/libjnidispatch.so' -d "$work/jna"
libs=$( { find "$jre" -type f \( -name '*.so' -o -path '*/bin/*' \) -print0 | xargs -0 ldd 2>/dev/null
          ldd "$work/jna/libjnidispatch.so" /usr/bin/setpriv; } | awk '/=> \// { print $3 } /^\s*\/lib64\// { print $1 }' | sort -u)
for lib in $libs /lib64/ld-linux-x86-64.so.2; do
  case $lib in "$fs"/*) continue ;; esac   # the JRE's own libraries, found through $ORIGIN
  real=$(readlink -f "$lib")
  install -D -m 0755 "$real" "$fs$lib"
done

# Reproducible archive: fixed times, root ownership, sorted names.
find "$fs" -exec touch -h -d @0 {} +
(cd "$fs" && find . -print0 | LC_ALL=C sort -z | cpio --null --create --format=newc --owner=0:0 --reproducible --quiet) \
  | gzip -n -6 > "$work/initrd.img"
mkdir -p "$out.tmp"
install -m 0644 "$kernel" "$out.tmp/vmlinuz"
install -m 0644 "$work/initrd.img" "$out.tmp/initrd.img"
{ echo "kernel $kver ($kpkg $(dpkg-query -W -f='${Version}' "$kpkg"))"
  echo "busybox $(dpkg-query -W -f='${Version}' busybox-static 2>/dev/null || echo '?')"
  echo "jre $(grep JAVA_VERSION= "$jdk/release") modules $modules ($(du -sh "$jre" | cut -f1))"
  echo "modules ${order[*]}"
  echo "initrd $(du -h "$work/initrd.img" | cut -f1) sha256 $(sha256sum "$work/initrd.img" | cut -c1-64)"; } > "$out.tmp/manifest.txt"
chmod 0755 "$cache" "$out.tmp" 2>/dev/null || true
rm -rf "$out" && mv "$out.tmp" "$out"
# Older images (other inputs) are not used again.
find "$cache" -maxdepth 1 -name 'image-*' ! -name "image-$key" -exec rm -rf {} +
chmod 0755 "$cache"
cat "$out/manifest.txt" >&2
echo "$out"
