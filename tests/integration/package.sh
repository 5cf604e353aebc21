# The Debian package (issue #14): scripts/package.sh builds jailctl_<version>_<arch>.deb from
# this build tree; `apt-get install ./jailctl_*.deb` installs it in a root without jailctl,
# and the installed jailctl runs `host check`, finds its init, its man page and completion;
# `apt-get remove` takes it all away again.
#
# The root: an overlay of this host's / (lower, read-only) with a tmpfs on top, in a private
# mount namespace, so nothing reaches the host. It is not a fresh root: the dependencies are
# already there, so apt resolves them from the dpkg database without the network. What this
# proves offline: the package installs through apt, files land where the binary looks for
# them, and removal is clean. tests/package/fresh_root.sh does the same in a debootstrap root
# with the dependencies fetched from the archive (2-3 minutes, network).
set -euo pipefail
for tool in dpkg-deb dpkg-shlibdeps apt-get unshare chroot; do
  command -v "$tool" >/dev/null || { echo "skipped: $tool not installed" >&2; exit 77; }
done
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null || { echo "skipped: no overlayfs" >&2; exit 77; }
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=$(dirname "$JAILCTL")

info "scripts/package.sh"
deb=$("$HERE/scripts/package.sh" "$BUILD" "$SANDBOX_DIR") || fail "package.sh failed"
version=$("$JAILCTL" --version | awk '{print $NF}')
assert_eq "$SANDBOX_DIR/jailctl_${version}_$(dpkg --print-architecture).deb" "$deb" "package file name"
fields=$(dpkg-deb --field "$deb" Package Version Architecture Depends)
assert_contains "$fields" "Package: jailctl"
assert_contains "$fields" "Version: $version"
for dep in liblxc1 libsqlite3-0 libarchive13 libzstd1 libssl3 lxc uidmap nginx vsftpd e2fsprogs iproute2 libcurl4; do
  grep -qE "^Depends:.*(^|[ ,|])$dep([ ,(]|$)" <<<"$fields" || fail "Depends lacks $dep: $fields"
done
contents=$(dpkg-deb --contents "$deb" | awk '{print $NF}')
for f in ./usr/sbin/jailctl ./usr/lib/jailctl/jailctl-init ./usr/share/man/man8/jailctl.8.gz \
  ./usr/share/bash-completion/completions/jailctl ./usr/share/zsh/vendor-completions/_jailctl \
  ./lib/systemd/system/jailctl.service ./lib/systemd/system/jailctl-metrics.service \
  ./lib/systemd/system/jailctl-metrics.timer ./lib/systemd/system/jailctl-renew.service \
  ./lib/systemd/system/jailctl-renew.timer ./lib/systemd/system/jailctl-api.service; do
  grep -qx -- "$f" <<<"$contents" || fail "the package lacks $f:"$'\n'"$contents"
done
for unit in "jailctl-renew.service:renew --all" "jailctl-api.service:serve --listen"; do  # units run the packaged binary
  assert_contains "$(dpkg-deb --fsys-tarfile "$deb" | tar -xOf - "./lib/systemd/system/${unit%%:*}" | grep '^ExecStart=')" \
    "ExecStart=/usr/sbin/jailctl ${unit#*:}" "ExecStart of ${unit%%:*}"
done

info "apt-get install ./$(basename "$deb") in a root without jailctl (overlay of /, private mount namespace)"
cat > "$SANDBOX_DIR/in-root.sh" <<'EOF'
set -euo pipefail
deb=$1 w=$2
mount -t tmpfs tmpfs "$w"
mkdir "$w/upper" "$w/work" "$w/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$w/upper,workdir=$w/work" "$w/root"
r=$w/root
mount --rbind /dev "$r/dev"
mount -t proc proc "$r/proc"
mount --rbind /sys "$r/sys"
mount -t tmpfs tmpfs "$r/tmp"
mount -t tmpfs tmpfs "$r/run"
rm -rf "$r/usr/local/sbin/jailctl" "$r/usr/local/lib/jailctl" "$r/usr/sbin/jailctl" "$r/usr/lib/jailctl"
cp "$deb" "$r/tmp/"
printf '#!/bin/sh\nexit 101\n' > "$r/usr/sbin/policy-rc.d"; chmod 755 "$r/usr/sbin/policy-rc.d"
in_root() { chroot "$r" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb LANG=C.UTF-8 \
  DEBIAN_FRONTEND=noninteractive "$@"; }
echo "== install"
in_root apt-get install -y --no-install-recommends -o Dpkg::Use-Pty=0 "/tmp/$(basename "$deb")" 2>&1 | tail -n 5
echo "== status"; in_root dpkg-query -W -f '${Status} ${Version}\n' jailctl
echo "== version"; in_root /usr/sbin/jailctl --version
echo "== host check"; rc=0; in_root /usr/sbin/jailctl --root /tmp/state host check --json > "$w/check.json" || rc=$?
echo "exit $rc"; cat "$w/check.json"
echo "== man"; in_root man -w jailctl
echo "== completion"; in_root bash -c 'source /usr/share/bash-completion/completions/jailctl && complete -p jailctl'
echo "== remove"; in_root apt-get remove -y -o Dpkg::Use-Pty=0 jailctl 2>&1 | tail -n 2
for f in /usr/sbin/jailctl /usr/lib/jailctl/jailctl-init /usr/share/man/man8/jailctl.8.gz; do
  [ -e "$r$f" ] && echo "LEFT BEHIND: $f"
done
echo "== done"
EOF
work=$(mktemp -d "$SANDBOX_DIR/root.XXXXXX")
start=$SECONDS
unshare --mount --propagation private bash "$SANDBOX_DIR/in-root.sh" "$deb" "$work" > "$SANDBOX_DIR/in-root.log" 2>&1 ||
  fail "installing in the root failed:"$'\n'"$(tail -n 40 "$SANDBOX_DIR/in-root.log")"
log=$(cat "$SANDBOX_DIR/in-root.log")
info "in the root ($((SECONDS - start)) s):"$'\n'"$log"
assert_contains "$log" "install ok installed $version" "dpkg status after apt-get install"
assert_contains "$log" "== version"$'\n'"$version" "jailctl --version in the root"
[[ "$log" =~ ==\ host\ check$'\n'exit\ ([0-9]+) ]] || fail "host check did not run"
rc=${BASH_REMATCH[1]}
[ "$rc" = 0 ] || [ "$rc" = 4 ] || fail "host check in the root exited $rc (0 ready or 4 not ready expected)"
json=$(sed -n '/^== host check/,/^== man/p' "$SANDBOX_DIR/in-root.log" | sed '1,2d;$d')
init_ok=$(python3 -c 'import json,sys
d = json.loads(sys.argv[1])
checks = d.get("checks", d if isinstance(d, list) else [])
print([(c["ok"], c["detail"]) for c in checks if c.get("name") == "jailctl-init"])' "$json") ||
  fail "host check --json is not JSON: $json"
assert_eq "[(True, '/usr/lib/jailctl/jailctl-init')]" "$init_ok" "host check's jailctl-init line"
assert_contains "$log" "/usr/share/man/man8/jailctl.8.gz" "man -w jailctl"
assert_contains "$log" "complete -F _jailctl jailctl" "bash completion"
assert_not_contains "$log" "LEFT BEHIND" "files after apt-get remove"
assert_contains "$log" "== done"
