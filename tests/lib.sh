# tests/lib.sh — helpers for the root tests; sourced by tests/sandbox.sh (through BASH_ENV)
# before each tests/integration/*.sh and tests/security/*.sh runs. Expects JAILCTL,
# JAILCTL_ROOT, SANDBOX_DIR and CLIENT in the environment.
# shellcheck disable=SC2034  # the variables set here are read by the test scripts
unset BASH_ENV  # do not leak into the shells the test starts

: "${SANDBOX_DIR:=$(mktemp -d)}"
OUT_FILE="$SANDBOX_DIR/last.stdout"
ERR_FILE="$SANDBOX_DIR/last.stderr"
OUT='' ERR='' RC=''

# jailctl with the sandbox's state root
jc() { "$JAILCTL" --root "$JAILCTL_ROOT" "$@"; }

# where a failing assertion was written: file:line of the test script
_where() {
  local i
  for ((i = 1; i < ${#BASH_SOURCE[@]}; i++)); do
    [ "${BASH_SOURCE[$i]}" != "${BASH_SOURCE[0]}" ] && { echo "$(basename "${BASH_SOURCE[$i]}"):${BASH_LINENO[$((i - 1))]}"; return; }
  done
  echo "?"
}

fail() { echo "FAIL at $(_where): $*" >&2; exit 1; }

# With set -e, say which command stopped the test (only in the test's own shell).
_on_err() {
  [ "$BASH_SUBSHELL" -eq 0 ] || return 0
  [ "$(basename "$3")" = lib.sh ] && return 0   # reported again at the test's line
  echo "FAIL at $(basename "$3"):$2: command exited $1: $4" >&2
}
set -o errtrace
trap '_on_err $? $LINENO "${BASH_SOURCE[0]}" "$BASH_COMMAND"' ERR
info() { echo "--- $*" >&2; }

assert_eq() {  # expected actual [what]
  [ "$1" == "$2" ] || fail "${3:-value}: expected '$1', got '$2'"
}

assert_contains() {  # haystack needle [what]
  [[ "$1" == *"$2"* ]] || fail "${3:-output} does not contain '$2':"$'\n'"$1"
}

assert_not_contains() {  # haystack needle [what]
  [[ "$1" != *"$2"* ]] || fail "${3:-output} contains '$2'"
}

assert_match() {  # string ERE [what]
  [[ "$1" =~ $2 ]] || fail "${3:-value} '$1' does not match /$2/"
}

# assert_exit <code> <cmd...>: run, keep stdout/stderr in OUT/ERR (and OUT_FILE/ERR_FILE),
# RC = exit status; fail with both outputs shown when the status is not <code>.
assert_exit() {
  local want=$1; shift
  RC=0
  "$@" >"$OUT_FILE" 2>"$ERR_FILE" || RC=$?
  OUT=$(cat "$OUT_FILE") ERR=$(cat "$ERR_FILE")
  if [ "$RC" != "$want" ]; then
    fail "'$*' exited $RC, expected $want"$'\n'"--- stdout:"$'\n'"$OUT"$'\n'"--- stderr:"$'\n'"$ERR"
  fi
}

# last non-empty line of the last command's stderr
last_err_line() { grep -v '^[[:space:]]*$' "$ERR_FILE" | tail -n 1; }

# assert_ko <step-regex> [cause-regex]: last stderr line is "KO: <step>: <cause>"
assert_ko() {
  local line; line=$(last_err_line)
  [[ "$line" =~ ^KO:\ ($1):\ (.*)$ ]] || fail "last stderr line is not 'KO: $1: ...': '$line'"
  if [ -n "${2:-}" ]; then
    local cause=${BASH_REMATCH[2]}  # the next match resets BASH_REMATCH
    shopt -s nocasematch
    [[ "$cause" =~ $2 ]] || { shopt -u nocasematch; fail "KO cause '$cause' does not match /$2/"; }
    shopt -u nocasematch
  fi
}

# ---- state snapshots: everything a jail could leave behind, as text
_state_dump() {
  local db="$JAILCTL_ROOT/jailctl.db" t
  echo "## registry rows (task journal excluded)"
  if [ -f "$db" ]; then
    for t in $(sqlite3 "$db" "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name" 2>/dev/null); do
      [[ "$t" =~ task|journal|step|event|log|sqlite_ ]] && continue
      sqlite3 "$db" "SELECT * FROM \"$t\"" 2>/dev/null | sed "s/^/$t|/" || true
    done
  fi
  echo "## loop devices on our images"
  losetup -a 2>/dev/null | { grep -F "$JAILCTL_ROOT" || true; } | sort
  echo "## links"
  ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort
  echo "## addresses"
  ip -o -4 addr show | awk '{print $2, $4}' | sort
  echo "## routes"
  ip -4 route show table all | { grep -v '^local\|^broadcast' || true; } | sort
  echo "## proxy neighbours"
  # Not the jail's gateway on its veth: LXC's router mode adds that entry right after making the
  # veth, and its network.c notes that the entry intermittently does not appear although added
  # (seen here: a restarted jail without it). jailctl puts the gateway address itself on the
  # veth, so the jail's gateway answers either way; the entries that matter are the uplink's.
  ip neigh show proxy | { grep -v '^169\.254\.0\.1 dev jc' || true; } | sort
  echo "## mounts under root"
  awk -v r="$JAILCTL_ROOT" 'index($5, r "/") == 1 {print $5}' /proc/self/mountinfo | sort
  echo "## files under root/jails"
  if [ -d "$JAILCTL_ROOT/jails" ]; then (cd "$JAILCTL_ROOT/jails" && find . -mindepth 1 -maxdepth 3 | sort); fi
  echo "## jail cgroups"  # but those from before the sandbox (tests/sandbox.sh: cgroups.before)
  find /sys/fs/cgroup -mindepth 2 -maxdepth 4 -type d \
    \( -name 'lxc.payload.*' -o -name 'lxc.monitor.*' -o -name 'jailctl*' \) 2>/dev/null | sort |
    { grep -vxF -f "$SANDBOX_DIR/cgroups.before" || [ $? -eq 1 ]; }
  echo "## processes naming our root"
  { grep -laF "$JAILCTL_ROOT" /proc/[0-9]*/cmdline 2>/dev/null || true; } | while read -r f; do
    tr '\0' ' ' 2>/dev/null < "$f" || true; echo
  done | { grep -v -e '^$' -e '^grep ' || true; } | sort
}

snapshot_state() { _state_dump > "$SANDBOX_DIR/state.${1:-default}"; }

assert_state_unchanged() {  # [snapshot-name] [what]
  local now="$SANDBOX_DIR/state.now"
  _state_dump > "$now"
  if ! diff -u "$SANDBOX_DIR/state.${1:-default}" "$now" > "$SANDBOX_DIR/state.diff"; then
    fail "${2:-state} changed (- before, + now):"$'\n'"$(tail -n +3 "$SANDBOX_DIR/state.diff")"
  fi
}

# ---- the customer's side
# curl from the client namespace (the ISP's customer network)
client_curl() { $CLIENT curl --silent --show-error --max-time 20 "$@"; }

# served_ftps_cert <ip> <file>: the certificate the jail's FTPS (explicit TLS, port 21) serves
served_ftps_cert() {
  $CLIENT openssl s_client -starttls ftp -connect "$1:21" </dev/null 2>/dev/null |
    openssl x509 -outform PEM > "$2"
}
# pubkey_pin <cert-file>: curl's --pinnedpubkey value for that certificate's public key
# (works whatever names the certificate carries)
pubkey_pin() {
  echo "sha256//$(openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER |
    openssl dgst -sha256 -binary | base64)"
}

# parse_create_output [file]: the "key: value" lines of create's stdout (default: last OUT)
# into CREATED_DOMAIN, CREATED_IP, CREATED_DISK, FTP_USER, FTP_PASS, FTP_TLS, FTP_FPR, LOG_PATH
parse_create_output() {
  local f=${1:-$OUT_FILE} key val
  CREATED_DOMAIN='' CREATED_IP='' CREATED_DISK='' FTP_USER='' FTP_PASS='' FTP_TLS='' FTP_FPR='' LOG_PATH=''
  while IFS= read -r line; do
    [[ "$line" =~ ^([a-z][a-z ]*):[[:space:]]+(.*)$ ]] || continue
    key=${BASH_REMATCH[1]} val=${BASH_REMATCH[2]}
    case "$key" in
      domain) CREATED_DOMAIN=$val ;;
      ip) CREATED_IP=$val ;;
      disk) CREATED_DISK=$val ;;
      "ftp user") FTP_USER=$val ;;
      "ftp pass") FTP_PASS=$val ;;
      "ftp tls") FTP_TLS=${val%%,*}
                 [[ "$val" =~ sha256[[:space:]]+([0-9A-Fa-f:]+) ]] && FTP_FPR=${BASH_REMATCH[1]} ;;
      log) LOG_PATH=$val ;;
    esac
  done < "$f"
  [ -n "$FTP_USER" ] && [ -n "$FTP_PASS" ] || fail "no 'ftp user:'/'ftp pass:' lines in create output:"$'\n'"$(cat "$f")"
}

# sha256 fingerprint, normalised: lowercase hex without colons
normalize_fpr() { tr -d ':' <<<"$1" | tr 'A-F' 'a-f'; }
cert_fpr() { openssl x509 -noout -fingerprint -sha256 -in "$1" | sed 's/.*=//' | tr -d ':' | tr 'A-F' 'a-f'; }

# ---- JSON: python3 preferred, jq as fallback
# json_eval <file> <python-expression over `d`>  (prints the result; str() of it)
json_eval() {
  python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
r = eval(sys.argv[2])
print(json.dumps(r) if isinstance(r, (dict, list)) or r is None else r)' "$1" "$2"
}
assert_json() {  # file — exactly one JSON value
  python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$1" 2>"$SANDBOX_DIR/json.err" ||
    fail "not one JSON document: $(cat "$SANDBOX_DIR/json.err")"$'\n'"$(cat "$1")"
}
require_python3() { command -v python3 >/dev/null || { echo "skipped: python3 not installed" >&2; exit 77; }; }

# ---- small waits
# retry <seconds> <cmd...>: until the command succeeds, every 0.2 s
retry() {
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do
    [ $SECONDS -ge $deadline ] && return 1
    sleep 0.2
  done
}

# http_load_start IP HOST PATH [CACERT]: the customer fetching http://IP/PATH (Host: HOST) in a
# loop from the client namespace until http_load_stop, which sets LOAD_OK and LOAD_FAILED (request
# counts). With CACERT: https://HOST/PATH resolved to IP, verified against CACERT.
http_load_start() {
  rm -f "$SANDBOX_DIR/load.stop" "$SANDBOX_DIR/load.ok" "$SANDBOX_DIR/load.fail"
  $CLIENT bash -c 'url="http://$2/$4" how=(-H "Host: $3")
    [ -z "$5" ] || { url="https://$3/$4" how=(--cacert "$5" --resolve "$3:443:$2"); }
    while [ ! -e "$1/load.stop" ]; do
      if curl -s -f --max-time 5 "${how[@]}" -o /dev/null "$url"; then echo >> "$1/load.ok"; else echo >> "$1/load.fail"; fi
    done' _ "$SANDBOX_DIR" "$1" "$2" "$3" "${4:-}" &
  HTTP_LOAD_PID=$!
}
http_load_stop() {
  touch "$SANDBOX_DIR/load.stop"; wait "$HTTP_LOAD_PID"
  touch "$SANDBOX_DIR/load.ok" "$SANDBOX_DIR/load.fail"
  LOAD_OK=$(wc -l < "$SANDBOX_DIR/load.ok") LOAD_FAILED=$(wc -l < "$SANDBOX_DIR/load.fail")
}

# second_root JAIL...: a second state root on this host for the test (`jc2` runs jailctl on it),
# removed at exit with the jails named here (restore and import targets, a colliding jail).
second_root() {
  JAILCTL_ROOT2=$(mktemp -d /tmp/jailctl-test2.XXXXXX)
  chmod 755 "$JAILCTL_ROOT2"
  echo "uplink = uplink0" > "$JAILCTL_ROOT2/host.conf"
  SECOND_ROOT_JAILS=("$@")
  trap remove_second_root EXIT
}
jc2() { "$JAILCTL" --root "$JAILCTL_ROOT2" "$@"; }
remove_second_root() {
  local d
  for d in "${SECOND_ROOT_JAILS[@]}"; do jc2 destroy --force "$d" >/dev/null 2>&1 || true; done
  rm -rf "$JAILCTL_ROOT2"
}
