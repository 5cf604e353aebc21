# shellcheck shell=bash disable=SC2015  # "check && blocked || weak": blocked only echoes
# Security: from inside a jail, as its root, reach the kernel: mount, /proc/sysrq-trigger, host
# /proc/sys knobs, block device nodes, kernel modules, hostname, clock, host processes.
# Every attempt is first shown to work on something the jail may touch, then on the forbidden target.
# Prints "blocked: <what> (<evidence>)" or "contained: ..." per attempt; a weakness fails the test.
set -euo pipefail
A=a.example.net IPA=203.0.113.32
source "$TESTS_DIR/security/attempts.bash"
errname() { awk '/^err/{print $2; exit}' <<<"$TRY_OUT"; }
# expect_err <what> <cmd...>: the attack tool must fail
expect_err() {
  local what=$1; shift
  try "$@"
  if [ "$TRY_RC" = 0 ]; then weak "$what succeeded: $TRY_OUT"; else blocked "$what ($(errname))"; fi
}

info "jail $A"
assert_exit 0 jc create "$A" --ip "$IPA" --size 64M
R=$JAILS/$A/rootfs
cc -O -Wall -o "$SANDBOX_DIR/attack" "$TESTS_DIR/security/tools/attack.c"
put_tool "$A" "$SANDBOX_DIR/attack" attack

info "mount"
jin "$A" mkdir -p /tmp/m /tmp/p
try jin "$A" mount -t tmpfs -o size=1m none /tmp/m
if [ "$TRY_RC" = 0 ]; then
  # allowed inside the jail's own mount namespace: harmless only if the host does not see it
  jin "$A" sh -c 'echo in-tmpfs > /tmp/m/f'
  [ ! -e "$R/tmp/m/f" ] || weak "a tmpfs mounted in the jail is visible on the host at $R/tmp/m"
  awk -v r="$R" 'index($5, r "/tmp/m") == 1' /proc/self/mountinfo | grep -q . &&
    weak "the jail's tmpfs mount appears in the host's mount table"
  contained "mount -t tmpfs on /tmp/m (only in the jail's own mount namespace; not on the host)"
  jin "$A" umount /tmp/m
else blocked "mount -t tmpfs ($TRY_OUT)"; fi
try jin "$A" mount -t proc proc /tmp/p
if [ "$TRY_RC" = 0 ]; then
  # LXC's mounts are made inside the jail's user namespace, so they are not locked: a fresh
  # procfs is allowed. Harmless only if it shows the jail's pid namespace alone and the host
  # knobs stay unwritable (they belong to the initial user namespace).
  n=$(jin "$A" sh -c 'ls -d /tmp/p/[0-9]* | wc -l')
  try jin "$A" /tmp/attack open-write /tmp/p/sys/kernel/panic
  if [ "$n" -lt 20 ] && [ "$TRY_RC" != 0 ]; then
    contained "mount -t proc (allowed; shows $n pids of the jail, its sys/kernel/panic not writable: $(errname))"
  else weak "a fresh procfs in the jail shows $n pids or a writable kernel.panic: $TRY_OUT"; fi
  jin "$A" umount /tmp/p
else blocked "mount -t proc (a fresh, unmasked procfs: $(msg))"; fi
try jin "$A" mount -t sysfs sysfs /tmp/p
[ "$TRY_RC" != 0 ] && blocked "mount -t sysfs ($(msg))" ||
  { weak "mount -t sysfs succeeded in the jail"; jin "$A" umount /tmp/p || true; }
try jin "$A" mount -o remount,rw /usr
[ "$TRY_RC" != 0 ] && blocked "remount the shared /usr read-write ($(msg))" || weak "/usr remounted rw in the jail"
try jin "$A" mount -o remount,suid,dev /
[ "$TRY_RC" != 0 ] && blocked "remount / suid,dev ($(msg))" || weak "the jail's / remounted suid,dev"
# peel LXC's masking of /proc/sys (its children first); whatever is left must still protect the host
try jin "$A" sh -c 'umount /proc/sys/kernel/random/boot_id; umount /proc/sys/net; umount /proc/sys && grep -c " /proc" /proc/mounts'
if [ "$TRY_RC" != 0 ]; then blocked "umount the read-only /proc/sys to reveal the rw one ($(msg))"
else contained "umount of LXC's read-only /proc/sys succeeded (mounts are not locked); host knobs tested below through the bare procfs"; fi
jin "$A" touch /tmp/own
try jin "$A" /tmp/attack open-write /usr/bin/id
[ "$TRY_RC" != 0 ] && blocked "write the shared /usr ($(errname))" || weak "the jail opened /usr/bin/id for writing"

info "/proc/sysrq-trigger and host /proc/sys knobs"
try jin "$A" /tmp/attack open-write /proc/self/comm
[ "$TRY_RC" = 0 ] || fail "control: the jail cannot open its own /proc/self/comm for writing: $TRY_OUT"
try jin "$A" /tmp/attack open-write /proc/sys/net/ipv4/ip_forward
[ "$TRY_RC" = 0 ] || fail "control: the jail cannot open its netns knob /proc/sys/net/ipv4/ip_forward: $TRY_OUT"
host_has_sysrq=no; [ -e /proc/sysrq-trigger ] && host_has_sysrq=yes
expect_err "open /proc/sysrq-trigger for writing (host has it: $host_has_sysrq)" jin "$A" /tmp/attack open-write /proc/sysrq-trigger
panic_before=$(cat /proc/sys/kernel/panic)
for knob in /proc/sys/kernel/panic /proc/sys/vm/drop_caches /proc/sys/kernel/core_pattern /proc/sys/kernel/modprobe; do
  expect_err "open $knob for writing" jin "$A" /tmp/attack open-write "$knob"
done
try jin "$A" sh -c 'echo 1234 > /proc/sys/kernel/panic'
assert_eq "$panic_before" "$(cat /proc/sys/kernel/panic)" "host kernel.panic after the jail wrote it"
try jin "$A" /tmp/attack open-write /sys/kernel/uevent_helper
[ "$TRY_RC" != 0 ] && blocked "open /sys/kernel/uevent_helper for writing ($(errname))" || weak "/sys/kernel/uevent_helper writable"

info "device nodes reaching host disks"
try jin "$A" mkfifo /tmp/fifo
[ "$TRY_RC" = 0 ] || fail "control: mkfifo in the jail's /tmp failed: $TRY_OUT"
root_dev=$(stat -c '%d' /usr)   # the host's disk under /usr
disks=("8 0" "253 0" "7 0" "$((root_dev >> 8)) $((root_dev & 255))")
for d in "${disks[@]}"; do
  # shellcheck disable=SC2086  # major minor
  set -- $d
  try jin "$A" /tmp/attack mknod-open "/tmp/blk-$1-$2" "$1" "$2"
  if [ "$TRY_RC" = 0 ]; then weak "block device $1:$2 created and read from the jail: $TRY_OUT"
  else blocked "mknod+open block device $1:$2 ($(awk '/^err/{printf "%s ", $2}' <<<"$TRY_OUT"| sed 's/ $//'))"; fi
done
try jin "$A" sh -c 'ls /dev'
assert_not_contains "$TRY_OUT" loop "the jail's /dev"
assert_not_contains "$TRY_OUT" vd "the jail's /dev"
assert_not_contains "$TRY_OUT" sd "the jail's /dev"
blocked "host disks in the jail's /dev (only: $(tr '\n' ' ' <<<"$TRY_OUT"))"

info "kernel modules"
try "$SANDBOX_DIR/attack" finit_module -
host_errno=$(errname)
[ "$host_errno" = EBADF ] || [ "$host_errno" = ENOSYS ] ||
  fail "control: finit_module(-1) as host root should reach the kernel (EBADF, or ENOSYS without module support): $TRY_OUT"
info "host root gets $host_errno from finit_module(-1) (ENOSYS: this kernel has no module support)"
expect_err "finit_module" jin "$A" /tmp/attack finit_module -
expect_err "init_module" jin "$A" /tmp/attack init_module
expect_err "delete_module" jin "$A" /tmp/attack delete_module jailctl_no_such_module
if [ -x /usr/sbin/modprobe ]; then
  try jin "$A" /usr/sbin/modprobe -q dummy
  [ "$TRY_RC" != 0 ] && blocked "modprobe dummy (exit $TRY_RC)" || weak "modprobe succeeded in the jail"
fi

info "hostname"
host_name=$(hostname)
try jin "$A" hostname jail-renamed-itself
[ "$TRY_RC" = 0 ] && [ "$(jin "$A" hostname)" = jail-renamed-itself ] ||
  fail "control: the jail cannot set its own hostname: $TRY_OUT"
assert_eq "$host_name" "$(hostname)" "host hostname after the jail changed its own"
contained "hostname change (only the jail's UTS namespace; host still '$host_name')"
jin "$A" hostname "$A"

info "clock"
before=$(date +%s)
expect_err "clock_settime(CLOCK_REALTIME) to 2001" jin "$A" /tmp/attack settime 1000000000
try jin "$A" date -s '2001-09-09 01:46:40'
[ "$TRY_RC" != 0 ] && blocked "date -s ($(msg))" || weak "date -s succeeded in the jail"
after=$(date +%s)
[ $((after - before)) -ge 0 ] && [ $((after - before)) -lt 30 ] || weak "the host clock jumped: $before -> $after"

info "host processes"
sleep 300 &
HOSTPID=$!
try jin "$A" kill -0 1
[ "$TRY_RC" = 0 ] || fail "control: the jail cannot signal its own init: $TRY_OUT"
try jin "$A" kill -0 "$HOSTPID"
[ "$TRY_RC" != 0 ] && blocked "kill -0 host pid $HOSTPID ($(msg))" || weak "the jail can signal host pid $HOSTPID"
try jin "$A" kill -0 "$$"
[ "$TRY_RC" != 0 ] && blocked "kill -0 the test shell, host pid $$ ($(msg))" || weak "the jail can signal host pid $$"
try jin "$A" ps -e -o pid=,comm=
jail_ps=$TRY_OUT
assert_contains "$jail_ps" nginx "control: ps in the jail"
assert_not_contains "$jail_ps" sleep "ps in the jail (the host's sleep $HOSTPID)"
assert_not_contains "$jail_ps" lxc-start "ps in the jail"
n=$(jin "$A" sh -c 'ls -d /proc/[0-9]* | wc -l')
[ "$n" -lt 20 ] || weak "the jail sees $n pids in /proc"
try jin "$A" ls -d "/proc/$HOSTPID"
[ "$TRY_RC" != 0 ] && blocked "see host processes (ps shows $(wc -l <<<"$jail_ps") jail processes; /proc/$HOSTPID absent)" ||
  weak "/proc/$HOSTPID exists in the jail"
kill "$HOSTPID"; wait "$HOSTPID" 2>/dev/null || true

assert_exit 0 jc test "$A"
assert_exit 0 jc destroy --force "$A"
verdict "kernel: all attempts blocked or contained"
