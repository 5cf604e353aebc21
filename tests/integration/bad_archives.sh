# Archives that must be refused before anything is created: flipped byte, truncated, path
# traversal, absolute path, device node, setuid file, escaping symlink, hard link, a sparse entry
# larger than the manifest says, not ours.
# Each is exit 2 with "KO: validate: ..." naming the problem; registry and jails dir unchanged.
set -euo pipefail
require_python3
command -v zstd >/dev/null || { echo "skipped: zstd not installed" >&2; exit 77; }
D=example.com IP=203.0.113.40

assert_exit 0 jc create "$D" --ip "$IP" --size 128M
assert_exit 0 jc --json backup "$D"
GOOD=$(json_eval "$OUT_FILE" 'd["file"]')
zstd -dc "$GOOD" | tar -xOf - manifest.json > "$SANDBOX_DIR/manifest.json"
snapshot_state

# craft <name> <kind>: a .tar.zst with the real manifest, the jail root and one bad entry
craft() {
  python3 - "$SANDBOX_DIR/manifest.json" "$2" > "$SANDBOX_DIR/$1.tar" <<'PY'
import io, sys, tarfile
manifest, kind = open(sys.argv[1], "rb").read(), sys.argv[2]
out = tarfile.open(fileobj=sys.stdout.buffer, mode="w|", format=tarfile.PAX_FORMAT)
def add(name, type=tarfile.REGTYPE, data=b"", mode=0o644, linkname="", uid=0):
    ti = tarfile.TarInfo(name); ti.type = type; ti.mode = mode; ti.linkname = linkname
    ti.uid = ti.gid = uid; ti.size = len(data) if type == tarfile.REGTYPE else 0
    out.addfile(ti, io.BytesIO(data) if type == tarfile.REGTYPE else None)
add("manifest.json", data=manifest)
add("rootfs", tarfile.DIRTYPE, mode=0o755)
add("rootfs/etc", tarfile.DIRTYPE, mode=0o755)
if kind == "traversal": add("rootfs/../../evil", data=b"x")
if kind == "absolute": add("/etc/evil", data=b"x")
if kind == "device": add("rootfs/etc/sda", tarfile.CHRTYPE, mode=0o600)
if kind == "fifo": add("rootfs/etc/fifo", tarfile.FIFOTYPE, mode=0o600)
if kind == "setuid": add("rootfs/etc/su", data=b"#!/bin/sh\n", mode=0o4755)
if kind == "symlink": add("rootfs/etc/escape", tarfile.SYMTYPE, mode=0o777, linkname="../../../etc/shadow")
if kind == "abssymlink": add("rootfs/etc/escape", tarfile.SYMTYPE, mode=0o777, linkname="/../../root")
if kind == "hardlink": add("rootfs/etc/h", tarfile.LNKTYPE, linkname="/etc/shadow")
if kind == "uid": add("rootfs/etc/big", data=b"x", uid=70000)
if kind == "through-symlink":
    add("rootfs/l", tarfile.SYMTYPE, mode=0o777, linkname="/etc")
    add("rootfs/l/passwd", data=b"x")
out.close()
PY
  zstd -q -f "$SANDBOX_DIR/$1.tar" -o "$SANDBOX_DIR/$1.tar.zst"
}

refused() {  # <archive> <cause-regex> [verb]
  assert_exit 2 jc "${3:-restore}" "$1" --domain other.example.com --ip 203.0.113.41
  assert_ko validate "$2"
  assert_state_unchanged default "state after ${3:-restore} of $(basename "$1")"
}

info "flipped byte"
cp "$GOOD" "$SANDBOX_DIR/flipped.tar.zst"
size=$(stat -c %s "$GOOD")
python3 - "$SANDBOX_DIR/flipped.tar.zst" $((size - 200)) <<'PY'
import sys
f = open(sys.argv[1], "r+b"); f.seek(int(sys.argv[2])); b = f.read(1); f.seek(int(sys.argv[2])); f.write(bytes([b[0] ^ 0xff]))
PY
refused "$SANDBOX_DIR/flipped.tar.zst" 'corrupt|sha256|truncated'
refused "$SANDBOX_DIR/flipped.tar.zst" 'corrupt|sha256|truncated' import

info "truncated"
head -c $((size - 3000)) "$GOOD" > "$SANDBOX_DIR/truncated.tar.zst"
refused "$SANDBOX_DIR/truncated.tar.zst" 'truncated|corrupt'

info "content altered with a valid compression (digest mismatch)"
zstd -dc "$GOOD" > "$SANDBOX_DIR/plain.tar"
python3 - "$SANDBOX_DIR/plain.tar" <<'PY'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
i = data.find(b"server_name")  # inside nginx.conf
assert i > 0
data[i] = ord("S")
open(sys.argv[1], "wb").write(data)
PY
zstd -q -f "$SANDBOX_DIR/plain.tar" -o "$SANDBOX_DIR/altered.tar.zst"
refused "$SANDBOX_DIR/altered.tar.zst" 'sha256'

for kind in traversal absolute device fifo setuid symlink abssymlink hardlink uid through-symlink; do
  info "$kind"
  craft "$kind" "$kind"
  case $kind in
    traversal) cause="\.\." ;; absolute) cause=absolute ;; device|fifo) cause="device node" ;;
    setuid) cause=setuid ;; symlink|abssymlink) cause="outside the jail" ;; hardlink) cause="hard link" ;;
    uid) cause="outside the jail's ids" ;; through-symlink) cause="parent directory" ;;
  esac
  refused "$SANDBOX_DIR/$kind.tar.zst" "$cause"
done

info "a sparse entry far larger than the manifest says (refused before its holes are hashed)"
mkdir -p "$SANDBOX_DIR/huge/rootfs"
cp "$SANDBOX_DIR/manifest.json" "$SANDBOX_DIR/huge/"
truncate -s 64G "$SANDBOX_DIR/huge/rootfs/hole"
tar --format=pax -S -C "$SANDBOX_DIR/huge" -cf - manifest.json rootfs | zstd -q > "$SANDBOX_DIR/huge.tar.zst"
start=$SECONDS
refused "$SANDBOX_DIR/huge.tar.zst" 'differs from the manifest'
[ $((SECONDS - start)) -lt 30 ] || fail "a 64 GiB hole took $((SECONDS - start)) s to refuse"

info "not a jailctl archive"
printf 'hello\n' > "$SANDBOX_DIR/hello.txt"; tar -C "$SANDBOX_DIR" -cf - hello.txt | zstd -q > "$SANDBOX_DIR/foreign.tar.zst"
refused "$SANDBOX_DIR/foreign.tar.zst" 'manifest'
head -c 5000 /dev/urandom > "$SANDBOX_DIR/random.tar.zst"
refused "$SANDBOX_DIR/random.tar.zst" 'archive'

info "the good archive still restores (the checks are not simply refusing everything)"
assert_exit 0 jc restore "$GOOD" --domain other.example.com --ip 203.0.113.41
assert_exit 0 jc destroy --force other.example.com
echo "bad_archives: OK"
