# A --root on XFS with reflinks (mkfs.xfs -m reflink=1 on a loop device of this test's own):
# host check says "reflink"; a backup of a RUNNING jail holding 200 MiB freezes its writers for
# milliseconds (FICLONE of the image, whatever the data size) while HTTP keeps answering; the
# restore serves the same bytes; a clone is a reflink too. The ext4 path (extent copy, freeze
# printed) is what every other test runs on: backup_restore.sh, clone.sh.
set -euo pipefail
D=xfs.example.com IP=203.0.113.10 D2=xfs-restored.example.com IP2=203.0.113.20 D3=xfs-clone.example.com IP3=203.0.113.30

# not under $SANDBOX_DIR (0700): the jail's mapped ids must traverse the path to its rootfs
XFS_IMG="$SANDBOX_DIR/xfs.img" XFS_DIR=$(mktemp -d /tmp/jailctl-xfs.XXXXXX) XFS_LOOP=""
remove_xfs_root() {
  local d
  for d in "$D3" "$D2" "$D"; do jc2 destroy --force "$d" >/dev/null 2>&1 || true; done
  if mountpoint -q "$XFS_DIR"; then umount "$XFS_DIR" || umount -l "$XFS_DIR"; fi
  [ -z "$XFS_LOOP" ] || losetup -d "$XFS_LOOP" 2>/dev/null || true
  rm -f "$XFS_IMG"
  rmdir "$XFS_DIR" 2>/dev/null || true
}
trap remove_xfs_root EXIT
truncate -s 3G "$XFS_IMG"  # sparse: ~600 MiB get written (data, archive, restore)
mkfs.xfs -q -m reflink=1 "$XFS_IMG"
XFS_LOOP=$(losetup --find --show "$XFS_IMG")
mount "$XFS_LOOP" "$XFS_DIR"       # in the sandbox's private mount namespace
JAILCTL_ROOT2="$XFS_DIR/jailctl"
mkdir -p "$JAILCTL_ROOT2" && chmod 755 "$XFS_DIR" "$JAILCTL_ROOT2"
echo "uplink = uplink0" > "$JAILCTL_ROOT2/host.conf"
jc2() { "$JAILCTL" --root "$JAILCTL_ROOT2" "$@"; }

info "host check names the reflink root"
jc2 --json host check > "$SANDBOX_DIR/check.json" || true
assert_eq reflink "$(json_eval "$SANDBOX_DIR/check.json" '[c for c in d["checks"] if c["name"] == "snapshots"][0]["state"]')" "snapshots check"
assert_contains "$(jc2 host check || true)" "is xfs with reflinks" "host check text"

info "create on the XFS root, 200 MiB of data inside"
assert_exit 0 jc2 create "$D" --ip "$IP" --size 512M
parse_create_output
head -c 4096 /dev/urandom > "$SANDBOX_DIR/page.bin"
client_curl --ssl-reqd --insecure --user "$FTP_USER:$FTP_PASS" -T "$SANDBOX_DIR/page.bin" "ftp://$IP/www/page.bin"
jc2 exec "$D" -- sh -c 'head -c 209715200 /dev/urandom > /srv/site/www/big.bin && sync' >/dev/null

info "backup while HTTP requests keep coming"
http_load_start "$IP" "$D" page.bin
sleep 0.3
assert_exit 0 jc2 --json backup "$D"
cp "$OUT_FILE" "$SANDBOX_DIR/backup.json"
http_load_stop
assert_eq 0 "$LOAD_FAILED" "failed HTTP requests during the backup"
[ "$LOAD_OK" -ge 1 ] || fail "no HTTP request completed during the backup"
assert_eq reflink "$(json_eval "$SANDBOX_DIR/backup.json" 'd["snapshot"]')" "snapshot method"
freeze=$(json_eval "$SANDBOX_DIR/backup.json" 'd["freeze_ms"]')
info "freeze with 200 MiB inside: $freeze ms"
python3 -c "import sys; sys.exit(0 if 0 < float(sys.argv[1]) <= 50 else 1)" "$freeze" ||
  fail "freeze_ms $freeze: a reflink snapshot must block writers for at most 50 ms"
FILE=$(json_eval "$SANDBOX_DIR/backup.json" 'd["file"]')

info "restore as a new jail: the same bytes"
assert_exit 0 jc2 restore "$FILE" --domain "$D2" --ip "$IP2"
client_curl -H "Host: $D2" "http://$IP2/page.bin" -o "$SANDBOX_DIR/got.bin"
cmp "$SANDBOX_DIR/page.bin" "$SANDBOX_DIR/got.bin" || fail "restored page.bin differs"
[ "$(jc2 exec "$D2" -- stat -c %s /srv/site/www/big.bin)" = 209715200 ] || fail "restored big.bin has the wrong size"

info "clone of the running jail: a reflink too"
assert_exit 0 jc2 --json clone "$D" "$D3" --ip "$IP3"
assert_eq reflink "$(json_eval "$OUT_FILE" 'd["copy"]["method"]')" "clone copy method"
client_curl -H "Host: $D3" "http://$IP3/page.bin" -o "$SANDBOX_DIR/got3.bin"
cmp "$SANDBOX_DIR/page.bin" "$SANDBOX_DIR/got3.bin" || fail "cloned page.bin differs"
