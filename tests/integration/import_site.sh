# import-site: a jail created from an existing site (a directory, a .tar.gz, a .tar.zst) serves
# the imported index page (create's test adapted: it looks for the page's <title>); every file
# belongs to the FTP user with sanitised modes; a sparse file of a `tar -S` tarball arrives whole
# (and stays sparse); unsafe sources (absolute paths, '..', device
# nodes, setuid files, symlinks leaving the site, entries below a symlink) are refused before
# anything is created.
set -euo pipefail
require_python3
id_base() { sqlite3 "$JAILCTL_ROOT/jailctl.db" "SELECT id_base FROM jails WHERE domain='$1'"; }

site="$SANDBOX_DIR/site"
mkdir -p "$site/css" "$site/sub/deeper" "$site/cgi"
printf '<html><head><title>Imported Shop 4711</title></head><body>old server</body></html>\n' > "$site/index.html"
echo 'body { color: red }' > "$site/css/style.css"
echo '<p>page</p>' > "$site/sub/page.html"; chmod 0600 "$site/sub/page.html"
echo 'deep' > "$site/sub/deeper/x.txt"; chmod 0640 "$site/sub/deeper/x.txt"
printf '#!/bin/sh\necho hi\n' > "$site/cgi/run.sh"; chmod 0700 "$site/cgi/run.sh"
chmod 0700 "$site/sub"
ln -s sub/page.html "$site/latest.html"
head -c 300000 /dev/urandom > "$site/blob.bin"

check_site() {  # domain ip
  local d=$1 ip=$2 root="$JAILCTL_ROOT/jails/$1/rootfs/srv/site/www" base
  client_curl -H "Host: $d" "http://$ip/" | grep -qF "<title>Imported Shop 4711</title>" || fail "$d does not serve the imported index"
  client_curl -H "Host: $d" "http://$ip/sub/page.html" | grep -qF '<p>page</p>' || fail "$d: sub/page.html"
  client_curl -H "Host: $d" "http://$ip/latest.html" | grep -qF '<p>page</p>' || fail "$d: symlink latest.html"
  client_curl -H "Host: $d" "http://$ip/blob.bin" -o "$SANDBOX_DIR/blob.got" || fail "$d: blob.bin"
  cmp "$site/blob.bin" "$SANDBOX_DIR/blob.got" || fail "$d: blob.bin differs"
  base=$(id_base "$d")
  assert_eq "$((base + 2000)) $((base + 2000)) 644" "$(stat -c '%u %g %a' "$root/sub/page.html")" "$d: owner/mode of a 0600 file"
  assert_eq "$((base + 2000)) 644" "$(stat -c '%u %a' "$root/sub/deeper/x.txt")" "$d: owner/mode of a 0640 file"
  assert_eq "$((base + 2000)) 755" "$(stat -c '%u %a' "$root/cgi/run.sh")" "$d: owner/mode of a 0700 script"
  assert_eq "$((base + 2000)) 755" "$(stat -c '%u %a' "$root/sub")" "$d: owner/mode of a 0700 directory"
  assert_eq "$((base + 2000))" "$(stat -c '%u' "$root/latest.html")" "$d: owner of the symlink"
  assert_eq "sub/page.html" "$(readlink "$root/latest.html")" "$d: symlink target"
  # not `jc test`: it expects the domain in the page (the placeholder's); see the report to the lead
}

info "from a directory"
assert_exit 0 jc import-site dir.example.com --ip 203.0.113.67 --size 64M --from "$site"
parse_create_output
assert_match "$OUT" 'site: +6 files, 4 directories, 1 links' "import-site output"
check_site dir.example.com 203.0.113.67

info "from a .tar.gz"
tar -C "$site" -czf "$SANDBOX_DIR/site.tar.gz" .
assert_exit 0 jc --json import-site gz.example.com --ip 203.0.113.68 --size 64M --from "$SANDBOX_DIR/site.tar.gz"
assert_eq True "$(json_eval "$OUT_FILE" 'd["site"]["index_html"]')" "index_html (json)"
check_site gz.example.com 203.0.113.68

info "from a .tar.zst"
if tar --zstd -C "$site" -cf "$SANDBOX_DIR/site.tar.zst" . 2>/dev/null; then
  assert_exit 0 jc import-site zst.example.com --ip 203.0.113.69 --size 64M --from "$SANDBOX_DIR/site.tar.zst"
  check_site zst.example.com 203.0.113.69
else
  echo "SKIP .tar.zst: tar --zstd not available" >&2
fi

info "from a tar made with tar -S: a sparse file keeps its content and its holes"
sparse="$SANDBOX_DIR/sparse"
mkdir -p "$sparse"
printf '<html><head><title>Sparse Shop 4711</title></head></html>\n' > "$sparse/index.html"
printf 'head' > "$sparse/holes.bin"
truncate -s 3M "$sparse/holes.bin"; printf 'middle' >> "$sparse/holes.bin"; truncate -s 5M "$sparse/holes.bin"
tar -S -C "$sparse" -cf "$SANDBOX_DIR/sparse.tar" .
python3 -c 'import sys, tarfile; assert any(m.issparse() for m in tarfile.open(sys.argv[1])), "no sparse entry"' \
  "$SANDBOX_DIR/sparse.tar" || fail "tar -S made no sparse entry: this case would prove nothing"
assert_exit 0 jc import-site sparse.example.com --ip 203.0.113.71 --size 64M --from "$SANDBOX_DIR/sparse.tar"
client_curl -H "Host: sparse.example.com" "http://203.0.113.71/" | grep -qF "<title>Sparse Shop 4711</title>" ||
  fail "sparse.example.com does not serve the imported index"
client_curl -H "Host: sparse.example.com" "http://203.0.113.71/holes.bin" -o "$SANDBOX_DIR/holes.got" || fail "holes.bin"
cmp "$sparse/holes.bin" "$SANDBOX_DIR/holes.got" ||
  fail "holes.bin differs from the site's (served $(stat -c %s "$SANDBOX_DIR/holes.got") bytes)"
imported="$JAILCTL_ROOT/jails/sparse.example.com/rootfs/srv/site/www/holes.bin"
[ "$(( $(stat -c %b "$imported") * $(stat -c %B "$imported") ))" -lt $((1024 * 1024)) ] ||
  fail "the holes of holes.bin were written as zeros ($(stat -c %b "$imported") blocks)"
assert_exit 0 jc destroy --force sparse.example.com

info "unsafe sources: refused, nothing created"
snapshot_state
bad() {  # name python-tarfile-code: builds $SANDBOX_DIR/bad-<name>.tar, then expects a KO naming --from
  local tarpath="$SANDBOX_DIR/bad-$1.tar"
  python3 - "$tarpath" <<PY
import io, sys, tarfile
t = tarfile.open(sys.argv[1], "w")
def add(name, data=b"x", **kw):
    i = tarfile.TarInfo(name); i.size = len(data)
    for k, v in kw.items(): setattr(i, k, v)
    t.addfile(i, io.BytesIO(data) if i.isreg() else None)
add("index.html", b"<title>ok</title>")
$2
t.close()
PY
  assert_exit 2 jc import-site bad.example.com --ip 203.0.113.70 --size 64M --from "$tarpath"
  assert_ko validate 'from'
  assert_state_unchanged default "state after the '$1' tarball"
}
bad absolute 'add("/etc/evil")'
bad dotdot 'add("sub/../../evil")'
bad device 'add("dev0", type=tarfile.CHRTYPE, devmajor=1, devminor=3, size=0)'
bad fifo 'add("fifo0", type=tarfile.FIFOTYPE, size=0)'
bad setuid 'add("suid", mode=0o4755)'
bad setgid 'add("sgid", mode=0o2755)'
bad symlink-out 'add("up", type=tarfile.SYMTYPE, linkname="../../../../etc", size=0)'
bad symlink-abs 'add("abs", type=tarfile.SYMTYPE, linkname="/etc/passwd", size=0)'
bad through-link 'add("d", type=tarfile.SYMTYPE, linkname="css", size=0); add("d/x.html")'
info "a directory with a symlink leaving the site"
mkdir -p "$SANDBOX_DIR/badsite"; echo ok > "$SANDBOX_DIR/badsite/index.html"
ln -s ../../etc "$SANDBOX_DIR/badsite/etc"
assert_exit 2 jc import-site bad.example.com --ip 203.0.113.70 --size 64M --from "$SANDBOX_DIR/badsite"
assert_ko validate 'from.*leaves the site'
assert_state_unchanged default "state after a bad directory"
info "not a tar file, missing source, too small"
echo "not a tarball" > "$SANDBOX_DIR/junk.tar.gz"
assert_exit 2 jc import-site bad.example.com --ip 203.0.113.70 --size 64M --from "$SANDBOX_DIR/junk.tar.gz"
assert_ko validate 'from'
assert_exit 2 jc import-site bad.example.com --ip 203.0.113.70 --size 64M --from "$SANDBOX_DIR/nosuch"
assert_ko validate 'from'
head -c $((80 * 1024 * 1024)) /dev/zero > "$SANDBOX_DIR/badsite2.bin" && mkdir -p "$SANDBOX_DIR/big" &&
  mv "$SANDBOX_DIR/badsite2.bin" "$SANDBOX_DIR/big/big.bin"
assert_exit 2 jc import-site bad.example.com --ip 203.0.113.70 --size 64M --from "$SANDBOX_DIR/big"
assert_ko validate 'size'
assert_state_unchanged default "state after refused imports"
echo "import_site: OK"
