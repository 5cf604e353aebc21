#!/usr/bin/env bash
# The Debian package in a really fresh root (issue #14): `debootstrap --variant=minbase
# bookworm`, then `apt-get install ./jailctl_*.deb` fetches every dependency from the Debian
# archive, and the installed jailctl's `host check` finds every program it runs (nginx,
# vsftpd, mkfs.ext4, e2fsck, newuidmap, lxc-start, liblxc, its jailctl-init): the Depends are
# complete. Then `apt-get remove` leaves none of its files.
# Needs root and the Debian archive (skipped without them); about 2-3 minutes. Everything
# happens in a private mount namespace and a directory removed at the end: the host's mounts
# and /etc are untouched. (tests/integration/package.sh checks the same offline, faster, in an
# overlay of this host's root.)   Usage: fresh_root.sh JAILCTL
set -euo pipefail
JAILCTL=$(realpath "$1")
HERE=$(cd "$(dirname "$0")/../.." && pwd)
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
skip() { echo "skipped: $*" >&2; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root"
for tool in debootstrap dpkg-deb dpkg-shlibdeps unshare chroot curl; do
  command -v "$tool" >/dev/null || skip "$tool not installed (scripts/install-deps.sh)"
done
curl -sfI --max-time 10 "$MIRROR/dists/bookworm/Release" >/dev/null || skip "the Debian archive $MIRROR is not reachable"

work=$(mktemp -d /tmp/jailctl-fresh-root.XXXXXX)
trap 'rm -rf --one-file-system "$work"' EXIT
deb=$("$HERE/scripts/package.sh" "$(dirname "$JAILCTL")" "$work")
version=$("$JAILCTL" --version | awk '{print $NF}')

cat > "$work/in-ns.sh" <<'EOF'
set -euo pipefail
deb=$1 r=$2 mirror=$3
start=$SECONDS
debootstrap --variant=minbase bookworm "$r" "$mirror" > "$r.debootstrap.log" 2>&1 ||
  { tail -n 20 "$r.debootstrap.log"; exit 1; }
echo "== debootstrap $((SECONDS - start)) s"
cp /etc/resolv.conf "$r/etc/resolv.conf"
printf 'deb %s bookworm main\ndeb %s bookworm-updates main\n' "$mirror" "$mirror" > "$r/etc/apt/sources.list"
printf '#!/bin/sh\nexit 101\n' > "$r/usr/sbin/policy-rc.d"; chmod 755 "$r/usr/sbin/policy-rc.d"
mount -t proc proc "$r/proc"
mount --rbind /dev "$r/dev"
mount --rbind /sys "$r/sys"
cp "$deb" "$r/tmp/"
in_root() { chroot "$r" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
  DEBIAN_FRONTEND=noninteractive "$@"; }
start=$SECONDS
in_root apt-get update -qq
in_root apt-get install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0 "/tmp/$(basename "$deb")" > "$r.apt.log" 2>&1 ||
  { tail -n 20 "$r.apt.log"; exit 1; }
echo "== apt-get install $((SECONDS - start)) s, $(grep -c '^Setting up' "$r.apt.log") packages"
echo "== status"; in_root dpkg-query -W -f '${Status} ${Version}\n' jailctl
echo "== version"; in_root /usr/sbin/jailctl --version
echo "== host check"; rc=0; in_root /usr/sbin/jailctl --root /tmp/state host check --json > "$r.check.json" || rc=$?
echo "exit $rc"; cat "$r.check.json"
echo "== files"
for f in /usr/share/man/man8/jailctl.8.gz /usr/share/bash-completion/completions/jailctl \
  /usr/share/zsh/vendor-completions/_jailctl /lib/systemd/system/jailctl.service \
  /lib/systemd/system/jailctl-metrics.timer /lib/systemd/system/jailctl-renew.timer \
  /lib/systemd/system/jailctl-renew.service /lib/systemd/system/jailctl-api.service; do
  [ -f "$r$f" ] && echo "present $f"
done
grep -h '^ExecStart=' "$r/lib/systemd/system/jailctl.service"
echo "== remove"; in_root apt-get remove -y -qq -o Dpkg::Use-Pty=0 jailctl > /dev/null
for f in /usr/sbin/jailctl /usr/lib/jailctl/jailctl-init /usr/share/man/man8/jailctl.8.gz; do
  [ -e "$r$f" ] && echo "LEFT BEHIND: $f"
done
echo "== done"
EOF
log=$(unshare --mount --propagation private bash "$work/in-ns.sh" "$deb" "$work/root" "$MIRROR" 2>&1) ||
  { echo "FAIL: the fresh root:"; echo "$log"; exit 1; }
echo "$log" | grep '^== \(debootstrap\|apt-get\)'
fail=0
check() { grep -qF -- "$1" <<<"$log" || { echo "FAIL: $2"; fail=1; }; }
check "install ok installed $version" "dpkg does not list jailctl $version as installed"
check "== version"$'\n'"$version" "jailctl --version in the fresh root"
[[ "$log" =~ ==\ host\ check$'\n'exit\ ([0-9]+) ]] && [[ ${BASH_REMATCH[1]} =~ ^[04]$ ]] ||
  { echo "FAIL: host check did not run, or exited other than 0/4"; fail=1; }
json=$(sed -n '/^== host check/,/^== files/p' <<<"$log" | sed '1,2d;$d')
missing=$(python3 -c 'import json,sys
checks = {c["name"]: c for c in json.loads(sys.argv[1])["checks"]}
need = ["root", "liblxc", "nginx", "vsftpd", "mkfs.ext4", "e2fsck", "newuidmap", "lxc-start", "jailctl-init"]
bad = [n + "(" + (checks[n]["detail"] if n in checks else "absent") + ")" for n in need if not checks.get(n, {}).get("ok")]
print(" ".join(bad))
print(checks["jailctl-init"]["detail"])' "$json") || { echo "FAIL: host check --json is not JSON: $json"; exit 1; }
[ -z "$(head -n 1 <<<"$missing")" ] || { echo "FAIL: the package's Depends miss what host check needs: $(head -n 1 <<<"$missing")"; fail=1; }
[ "$(tail -n 1 <<<"$missing")" = /usr/lib/jailctl/jailctl-init ] || { echo "FAIL: jailctl-init found at $(tail -n 1 <<<"$missing")"; fail=1; }
for f in /usr/share/man/man8/jailctl.8.gz /usr/share/bash-completion/completions/jailctl \
  /usr/share/zsh/vendor-completions/_jailctl /lib/systemd/system/jailctl.service /lib/systemd/system/jailctl-metrics.timer \
  /lib/systemd/system/jailctl-renew.timer /lib/systemd/system/jailctl-renew.service /lib/systemd/system/jailctl-api.service; do
  check "present $f" "$f not installed"
done
check "ExecStart=/usr/sbin/jailctl start --all" "jailctl.service does not start /usr/sbin/jailctl"
grep -q "LEFT BEHIND" <<<"$log" && { echo "FAIL: apt-get remove left files: $(grep 'LEFT BEHIND' <<<"$log")"; fail=1; }
check "== done" "the fresh-root script did not finish"
[ $fail -eq 0 ] && echo "PASS: jailctl $version installs with apt-get into a fresh bookworm minbase root; host check finds every program"
exit $fail
