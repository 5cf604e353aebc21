# shellcheck shell=bash
# The security tests' vocabulary (sourced): run a command in a jail, try an attack and keep its
# output and status, report it blocked or contained, or record a weakness (WEAK fails the test).
JAILS=$JAILCTL_ROOT/jails
jin() { local d=$1; shift; lxc-attach -P "$JAILS" -n "$d" -- "$@"; }
# try <cmd...>: TRY_OUT = stdout+stderr, TRY_RC = exit status (never stops the test)
try() { TRY_RC=0; TRY_OUT=$("$@" 2>&1) || TRY_RC=$?; }
msg() { local l=${TRY_OUT%%$'\n'*}; echo "${l##*: }"; }  # the error text of TRY_OUT's first line
blocked() { echo "blocked: $*"; }
contained() { echo "contained: $*"; }
WEAK=()
weak() { echo "FAIL: $*" >&2; WEAK+=("$*"); }
put_tool() {  # domain host-file name: copy into the jail's /tmp, owned by the jail's root
  local r=$JAILS/$1/rootfs
  cp "$2" "$r/tmp/$3" && chown "$(stat -c %u:%g "$r")" "$r/tmp/$3" && chmod 755 "$r/tmp/$3"
}
# verdict <summary>: fails the test when any attempt was recorded weak, else prints the summary
verdict() {
  if [ ${#WEAK[@]} -gt 0 ]; then
    printf 'WEAKNESS: %s\n' "${WEAK[@]}" >&2
    fail "${#WEAK[@]} attempt(s) not blocked or contained (see WEAKNESS lines)"
  fi
  echo "$1"
}
