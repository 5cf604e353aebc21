# shellcheck shell=bash disable=SC2015  # "check && blocked || weak": blocked only echoes
# Security: from inside a jail, as its root, reach host files: /proc/1/root, /proc/self/exe,
# open_by_handle_at, symlinks planted in the image before a start, a setuid file made in the jail.
# Every attempt is first shown to work on something the jail may touch, then on the forbidden target.
# Prints "blocked: <what> (<evidence>)" per attempt; a weakness fails the test.
set -euo pipefail
A=a.example.net IPA=203.0.113.30
source "$TESTS_DIR/security/attempts.bash"

info "jail $A"
assert_exit 0 jc create "$A" --ip "$IPA" --size 64M
R=$JAILS/$A/rootfs
IDBASE=$(stat -c %u "$R")
[ "$IDBASE" -ge 65536 ] || fail "the jail's root is host uid $IDBASE (not a private range)"
cc -O -Wall -o "$SANDBOX_DIR/attack" "$TESTS_DIR/security/tools/attack.c"
put_tool "$A" "$SANDBOX_DIR/attack" attack

# a host file outside the jail, and a stamp to find anything written on the host
CANARY=$SANDBOX_DIR/canary
echo host-secret > "$CANARY"
chmod 666 "$CANARY"   # even world-writable: only the path must protect it
touch -d '-2 sec' "$SANDBOX_DIR/stamp"

info "/proc/1/root and /proc/<pid>/root"
try jin "$A" sh -c 'echo via-proc1 > /proc/1/root/tmp/via-proc1'
[ "$TRY_RC" = 0 ] && [ "$(cat "$R/tmp/via-proc1")" = via-proc1 ] ||
  fail "control: the jail cannot write its own /tmp through /proc/1/root: $TRY_OUT"
try jin "$A" cat "/proc/1/root$CANARY"
if [ "$TRY_RC" = 0 ]; then weak "/proc/1/root reads the host file $CANARY: $TRY_OUT"
else blocked "read host $CANARY via /proc/1/root ($(grep -o 'No such file or directory\|Permission denied' <<<"$TRY_OUT" | head -n1))"; fi
try jin "$A" sh -c "for p in /proc/[0-9]*; do cat \$p/root$CANARY 2>/dev/null && echo \"READ via \$p\"; echo pwned >> \$p/root$CANARY 2>/dev/null && echo \"WROTE via \$p\"; done; true"
if [[ "$TRY_OUT" == *READ* || "$TRY_OUT" == *WROTE* ]]; then weak "/proc/<pid>/root reaches $CANARY: $TRY_OUT"
else blocked "read/write host $CANARY via /proc/<every visible pid>/root (not found)"; fi
assert_eq host-secret "$(cat "$CANARY")" "host canary content"

info "/proc/self/exe, /proc/1/exe, /init (the host's jailctl-init, bound read-only)"
INIT_HOST=$(sed -n 's/^lxc.mount.entry = \(.*\) init none.*/\1/p' "$JAILS/$A/config")
[ -f "$INIT_HOST" ] || fail "cannot find the host path of the jail's init in $JAILS/$A/config"
init_sum=$(sha256sum < "$INIT_HOST")
try jin "$A" /tmp/attack open-write /tmp/via-proc1
[ "$TRY_RC" = 0 ] || fail "control: open-write of the jail's own file failed: $TRY_OUT"
for target in /proc/self/exe /proc/1/exe /init; do
  for mode in open-write open-rdwr; do
    try jin "$A" /tmp/attack "$mode" "$target"
    if [ "$TRY_RC" = 0 ]; then weak "$mode $target succeeded: $TRY_OUT"
    else blocked "$mode $target ($(awk '/^err/{print $2}' <<<"$TRY_OUT"))"; fi
  done
done
# /proc/self/exe of a host binary the jail runs from /usr (runc CVE-2019-5736 pattern)
try jin "$A" /usr/bin/sh -c 'exec 3<>/proc/self/exe'
if [ "$TRY_RC" = 0 ]; then weak "/usr/bin/sh opened its own /proc/self/exe read-write"
else blocked "/proc/self/exe of /usr/bin/sh read-write ($(msg))"; fi
try jin "$A" cp /tmp/attack /proc/1/exe
[ "$TRY_RC" != 0 ] && blocked "cp over /proc/1/exe ($(msg))" || weak "cp over /proc/1/exe succeeded"
assert_eq "$init_sum" "$(sha256sum < "$INIT_HOST")" "sha256 of the host's $INIT_HOST"

info "open_by_handle_at"
try "$SANDBOX_DIR/attack" handle /usr 2
[ "$TRY_RC" = 0 ] || fail "control: host root cannot open_by_handle_at the root inode of /usr's fs: $TRY_OUT"
for args in "/" "/ 2" "/usr 2" "/usr"; do
  # shellcheck disable=SC2086  # word splitting intended
  try jin "$A" /tmp/attack handle $args
  [[ "$TRY_OUT" == *"ok name_to_handle_at"* ]] || fail "control: name_to_handle_at $args failed in the jail: $TRY_OUT"
  if [ "$TRY_RC" = 0 ]; then weak "open_by_handle_at($args) succeeded in the jail: $TRY_OUT"
  else blocked "open_by_handle_at on $args ($(awk '/^err/{print $2}' <<<"$TRY_OUT"))"; fi
done

info "setuid file made in the jail"
try jin "$A" sh -c 'cp /usr/bin/id /tmp/suid-id && chmod 4755 /tmp/suid-id && stat -c %a /tmp/suid-id'
assert_eq 4755 "$TRY_OUT" "control: the jail's root made a setuid copy of id"
owner=$(stat -c %u "$R/tmp/suid-id")
[ "$owner" -ge "$IDBASE" ] && [ "$owner" -lt $((IDBASE + 65536)) ] && [ "$owner" != 0 ] ||
  weak "the setuid file is owned by host uid $owner, outside the jail's range $IDBASE+65536"
opts=$(findmnt -n -o OPTIONS --target "$R/tmp")
if [[ ",$opts," == *,nosuid,* && ",$opts," == *,nodev,* ]]; then :; else weak "the jail's disk is mounted '$opts' (no nosuid,nodev)"; fi
# executed on the host by an unprivileged user: the bit must not give the file owner's uid
ls -ld "$JAILS/$A" "$R" "$R/tmp" >/dev/null
try setpriv --reuid=65534 --regid=65534 --clear-groups "$R/tmp/suid-id" -u
if [ "$TRY_RC" = 0 ]; then
  if [ "$TRY_OUT" = 65534 ]; then blocked "setuid bit on the host (host uid $owner, mount $opts; ran as uid $TRY_OUT)"
  else weak "the jail's setuid file ran as uid $TRY_OUT on the host"; fi
else
  blocked "setuid file from the host (nobody cannot even run it: $TRY_OUT; owner $owner, mount $opts)"
fi

info "symlinks planted in the image before a start"
HOSTDIR=$SANDBOX_DIR/hostdir
mkdir -p "$HOSTDIR"; echo host-dir-secret > "$HOSTDIR/canary"; chmod -R a+rwX "$HOSTDIR"
etc_before=$(find /etc -xdev -newer "$SANDBOX_DIR/stamp" 2>/dev/null | sort)
assert_exit 0 jc stop "$A"
IMG=$JAILS/$A/disk.img
debugfs_w() { debugfs -w -f - "$IMG" >/dev/null 2>&1; }
for case in "proc $HOSTDIR" "dev $HOSTDIR" "usr /" "proc /etc" "dev /etc" "usr $HOSTDIR" "init $HOSTDIR/canary"; do
  # shellcheck disable=SC2086  # two words
  set -- $case
  name=$1 target=$2
  if [ "$name" = init ]; then printf 'rm init\nsymlink init %s\n' "$target" | debugfs_w
  else printf 'rmdir %s\nsymlink %s %s\n' "$name" "$name" "$target" | debugfs_w; fi
  debugfs -R "stat $name" "$IMG" 2>/dev/null | grep -q 'Type: symlink' || fail "could not plant the symlink /$name -> $target"
  : > "$JAILS/$A/lxc.log"
  RC=0; jc start "$A" >"$OUT_FILE" 2>"$ERR_FILE" || RC=$?
  if [ "$RC" != 0 ]; then
    # the first LXC error is the cause: "... ERROR conf - file:func:line - <errno text> - <what>"
    why=$(grep -m1 ' ERROR ' "$JAILS/$A/lxc.log" | sed 's/^.* ERROR *[^ ]* - [^ ]* - //' || true)
    # a refused start must not leave the monitor's cgroups (the next start would be renamed)
    if ! retry 5 bash -c "! compgen -G '/sys/fs/cgroup/*/lxc.monitor.$A*' >/dev/null"; then
      left=$(for cg in /sys/fs/cgroup/*/lxc.monitor."$A"*; do
               echo "$(basename "$(dirname "$cg")")[$(wc -l < "$cg/cgroup.procs" 2>/dev/null) procs]"; done | tr '\n' ' ')
      weak "LEAK (not an escape): the refused start of /$name -> $target left cgroups lxc.monitor.$A for 5 s in: $left"
      for cg in /sys/fs/cgroup/*/lxc.monitor."$A"*; do rmdir "$cg" 2>/dev/null || true; done
    fi
    blocked "/$name -> $target planted in the image (start refused: LXC: ${why:-$(last_err_line | cut -c1-100)})"
    [[ "$why" == *"symbolic link"* || "$why" == *"Not a directory"* ]] ||
      info "(start refused for another reason than the symlink? see above)"
  else
    seen=$(jin "$A" sh -c "cat /$name/canary /$name/hostname /$name/passwd 2>/dev/null | head -c 200; ls /$name/ 2>/dev/null | head -n 5" 2>&1 || true)
    if [[ "$seen" == *host-dir-secret* || "$seen" == *root:x:0* ]]; then
      weak "/$name -> $target: the started jail sees host files there: $seen"
    else
      blocked "/$name -> $target planted in the image (started; /$name shows no host file)"
    fi
    assert_exit 0 jc stop "$A"
  fi
  # the host dir and /etc are unchanged, nothing is mounted on them
  assert_eq "host-dir-secret" "$(cat "$HOSTDIR/canary")" "host canary after /$name -> $target"
  assert_eq "canary" "$(ls "$HOSTDIR")" "files in $HOSTDIR after /$name -> $target"
  assert_eq "$etc_before" "$(find /etc -xdev -newer "$SANDBOX_DIR/stamp" 2>/dev/null | sort)" "files changed in /etc"
  mounts=$(awk -v h="$HOSTDIR" '$5 == h || index($5, h "/") == 1' /proc/self/mountinfo)
  [ -z "$mounts" ] || weak "a mount appeared on $HOSTDIR after /$name -> $target: $mounts"
  if [ "$name" = init ]; then printf 'rm init\nwrite /dev/null init\nsif init mode 0100755\n' | debugfs_w
  else printf 'rm %s\nmkdir %s\nsif %s mode 040755\n' "$name" "$name" "$name" | debugfs_w; fi
  printf 'sif %s uid %s\nsif %s gid %s\n' "$name" "$IDBASE" "$name" "$IDBASE" | debugfs_w
done
assert_exit 0 jc start "$A"
assert_exit 0 jc test "$A"
assert_exit 0 jc destroy --force "$A"

verdict "fs_escape: all attempts blocked"
