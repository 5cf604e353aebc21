#!/usr/bin/env bash
# Installs every Debian 12 package jailctl needs to build, run and test.
# Host services of the same packages (nginx, vsftpd, lxc-net) are not started:
# jailctl runs its own instances inside each jail.
set -euo pipefail
[ "$(id -u)" -eq 0 ] || { echo "install-deps: must run as root" >&2; exit 1; }

packages=(
  build-essential cmake pkg-config git
  lxc lxc-dev uidmap
  nginx-light vsftpd
  libsqlite3-dev libcurl4-openssl-dev libcrypt-dev libidn2-dev libssl-dev
  libarchive-dev libzstd-dev libfmt-dev libspdlog-dev libcli11-dev nlohmann-json3-dev
  libmnl-dev libcap-dev libgtest-dev libgmock-dev clang
  e2fsprogs iproute2 util-linux curl lftp openssl sqlite3 procps psmisc python3
  python3-matplotlib   # bench/density and bench/provision plots
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
# Keep the packages' own init scripts from starting host-wide nginx/vsftpd/lxc-net.
policy=/usr/sbin/policy-rc.d
had_policy=0; [ -e "$policy" ] && had_policy=1
if [ $had_policy -eq 0 ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod 755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-deps: done"
