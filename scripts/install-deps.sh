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
  libarchive-dev libzstd-dev libcli11-dev nlohmann-json3-dev
  libmnl-dev libcap-dev libgtest-dev libgmock-dev clang
  e2fsprogs iproute2 util-linux curl lftp openssl sqlite3 procps psmisc python3
  python3-matplotlib   # bench/density and bench/provision plots
  chromium nodejs      # tests/browser: the web console in a real browser (playwright-core)
  man-db groff-base zsh python3-prometheus-client  # tests/docs (man page, completion), tests/integration/metrics.sh
  dpkg-dev debootstrap  # scripts/package.sh (dpkg-shlibdeps), tests/package/fresh_root.sh
  libcpp-httplib-dev   # jailctl serve (docs/DECISIONS.md)
  python3-jsonschema   # tests/api: responses checked against the OpenAPI schemas
  wrk                  # bench/api: the HTTP load generator
  xfsprogs             # tests/integration/xfs_root.sh: a reflink root (instant snapshots)
  uacme pebble         # HTTPS: the ACME client (renew, create), Pebble the test CA in tests/integration
  php8.2-fpm           # create --profile php: one php-fpm pool per jail, from the host's /usr
  etcd-server etcd-client  # cluster mode: the cluster's state (tests/cluster runs a 3-member etcd)
)

# tests/browser's pinned playwright-core (package-lock.json) into tests/browser/node_modules.
# npm: Debian's own package when node is Debian's; a NodeSource node (20+) brings its own npm
# and conflicts with Debian's, so it is installed only when there is no npm at all.
browser_test_modules() {
  local dir
  dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/browser"
  if ! command -v npm >/dev/null; then
    echo "install-deps: installing npm"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm
  fi
  # the stamp is the lock file npm ci last installed
  if ! cmp -s "$dir/package-lock.json" "$dir/node_modules/.jailctl-installed-lock" 2>/dev/null; then
    echo "install-deps: npm ci in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error &&
       cp package-lock.json node_modules/.jailctl-installed-lock)
  fi
}

missing=()
for p in "${packages[@]}"; do
  # node from NodeSource is also the package nodejs; any node found is fine
  [ "$p" = nodejs ] && command -v node >/dev/null && continue
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  browser_test_modules
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
browser_test_modules
echo "install-deps: done"
