#!/usr/bin/env bash
# Builds the Debian package jailctl_<version>_<arch>.deb from a build tree:
#   scripts/package.sh [BUILD_DIR] [OUT_DIR]      (defaults: build, .)
# What `cmake --install --prefix /usr` puts in a staging root (binaries stripped, man page,
# bash and zsh completion, systemd units), a control file whose Depends are the shared
# libraries dpkg-shlibdeps finds plus the programs jailctl runs, then dpkg-deb --build.
# (dpkg-deb rather than CPack: CPack's package target first builds every target, unit tests
# included; this packs exactly the binaries of the tree given.)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=$(realpath "${1:-$here/build}")
out=$(realpath "${2:-.}")
for tool in dpkg-deb dpkg-shlibdeps cmake; do
  command -v "$tool" >/dev/null || { echo "package: $tool not found (apt-get install dpkg-dev cmake)" >&2; exit 4; }
done
[ -f "$build/CMakeCache.txt" ] || { echo "package: $build is not a configured build tree" >&2; exit 2; }

cmake --build "$build" -j2 --target jailctl jailctl-init >/dev/null
version=$("$build/jailctl" --version | awk '{print $NF}')
arch=$(dpkg --print-architecture)
stage=$(mktemp -d /tmp/jailctl-package.XXXXXX)
trap 'rm -rf "$stage"' EXIT
DESTDIR="$stage/root" cmake --install "$build" --prefix /usr --strip >/dev/null
gzip -9n "$stage/root/usr/share/man/man8/jailctl.8"
install -d "$stage/root/usr/share/doc/jailctl"
cp "$here/README.md" "$stage/root/usr/share/doc/jailctl/README.md"
gzip -9n "$stage/root/usr/share/doc/jailctl/README.md"

# Shared libraries: dpkg-shlibdeps reads the binaries (it wants a debian/control beside it).
mkdir -p "$stage/shlibs/debian"
printf 'Source: jailctl\n\nPackage: jailctl\nArchitecture: any\n' > "$stage/shlibs/debian/control"
libs=$(cd "$stage/shlibs" && dpkg-shlibdeps -O -e "$stage/root/usr/sbin/jailctl" \
  -e "$stage/root/usr/lib/jailctl/jailctl-init" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
# Programs jailctl runs or checks (host check), and libcurl (loaded with dlopen, unseen by ldd).
runtime="lxc, uidmap, nginx-light | nginx, vsftpd, e2fsprogs, iproute2, mount, libcurl4"

mkdir -p "$stage/root/DEBIAN"
cat > "$stage/root/DEBIAN/control" <<CONTROL
Package: jailctl
Version: $version
Architecture: $arch
Maintainer: jailctl maintainers <root@localhost>
Section: admin
Priority: optional
Depends: $libs, $runtime
Recommends: python3-prometheus-client
Installed-Size: $(du -sk "$stage/root" | cut -f1)
Homepage: https://example.invalid/jailctl
Description: web + FTP hosting jails on Linux (LXC)
 jailctl gives every hosting customer an unprivileged LXC container with its own
 IPv4 address, a fixed-size ext4 disk, nginx for the site and vsftpd for FTPS.
 Every change runs as a journaled task that undoes itself on failure.
CONTROL
deb="$out/jailctl_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$stage/root" "$deb" >/dev/null
echo "$deb"
