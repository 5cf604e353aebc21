# Bad input across EVERY verb and option (issue 4, "Bad input"): a table of malformed command
# lines — huge (10 KB), empty, control characters, non-UTF-8 bytes, option injection, unknown
# jails and options, missing required options, bad sizes/limits/addresses/policies, unsafe or
# nonexistent files as archives or sites, bad --timeout/--jobs. For each row:
#   - the exit status is the expected one (2 bad input; 3 only where the input is well formed but
#     conflicts with what exists — the reason is given in the row's description),
#   - the last non-empty stderr line starts with "KO: ",
#   - that line names the field or option (case-insensitive regex, the row's second column),
#   - nothing changed: the state snapshot (registry, loops, links, addresses, routes, proxy
#     neighbours, mounts, files under jails/, cgroups, processes) is compared after EVERY row.
# One healthy running jail exists during the table, so verbs that need a jail get bad options
# against a real one; at the end it must still pass `jailctl test`.
# Rows are collected, not fail-fast: every failing row is listed, then the test fails.
set -euo pipefail

GOOD=good.example.com GOOD_IP=203.0.113.10
NEW=new.example.com NEW_IP=203.0.113.20
W=$SANDBOX_DIR/bad_input_all
mkdir -p "$W/site" "$W/adir"
ln -s "$W/plain.txt" "$W/alink" && mkfifo "$W/afifo"   # never replaced by a file (metrics --output)
echo '<h1>site</h1>' > "$W/site/index.html"
printf 'this is not an archive\n' > "$W/garbage.tar.zst"
printf 'just text\n' > "$W/plain.txt"
BIG=$(head -c 10240 /dev/zero | tr '\0' a)          # 10 KB argument
BIGDOM="$(head -c 10000 /dev/zero | tr '\0' a).com"  # 10 KB "domain"
NUL_LIKE=$'\x01'                                      # control character
FF=$'\xff\xfe'                                        # not UTF-8

info "create the healthy jail $GOOD and a real backup of it"
assert_exit 0 jc create "$GOOD" --ip "$GOOD_IP" --size 128M --sparse
assert_exit 0 jc --json backup "$GOOD" --output "$W/good.tar.zst"
ARCH=$W/good.tar.zst
snapshot_state table
WANT_STATE="$SANDBOX_DIR/state.table"

FAILURES=() KNOWN=() N=0
show_argv() { local s; s=$(printf '%q ' "$@"); [ ${#s} -gt 140 ] && s="${s:0:140}..."; echo "$s"; }

# run_row <status> <field-regex> <description> <argv...>: run `jailctl --root R argv...`, check it
run_row() {
  local want=$1 field=$2 desc=$3; shift 3
  local rc=0 line why=''
  N=$((N + 1))
  timeout 20 "$JAILCTL" --root "$JAILCTL_ROOT" "$@" </dev/null >"$W/out" 2>"$W/err" || rc=$?
  line=$({ grep -av '^[[:space:]]*$' "$W/err" || true; } | tail -n 1)
  [ "$rc" = "$want" ] || why+="exit $rc, expected $want; "
  [[ "$line" == "KO: "* ]] || why+="last stderr line does not start with 'KO: '; "
  shopt -s nocasematch
  [[ "$line" =~ $field ]] || why+="KO line does not name /$field/; "
  shopt -u nocasematch
  _state_dump > "$W/state.now"
  diff -u "$WANT_STATE" "$W/state.now" > "$W/state.diff" || {
    why+="STATE CHANGED: $(tail -n +3 "$W/state.diff" | grep '^[-+]' | head -n 8 | tr '\n' ' ')"
    cp "$W/state.now" "$WANT_STATE"   # report the change once, keep checking the other rows
  }
  RESULT="row $N [$desc] $(show_argv "$@")"$'\n'"    -> exit $rc, last stderr: ${line:0:300}"
  [ -z "$why" ] || RESULT+=$'\n'"    PROBLEM: $why"
}
row() { run_row "$@"; [[ "$RESULT" != *PROBLEM:* ]] || FAILURES+=("$RESULT"); }
# A known jailctl bug: run and print, never asserted (each is in the final report)
known_bug() { run_row "$@"; KNOWN+=("$RESULT"); }

info "the table"
# ---- global / parser
row 2 'frobnicate|subcommand|extra'  "unknown verb"                   frobnicate
row 2 'subcommand|required|verb'     "no verb at all"
row 2 'bogus'                        "unknown global option"          --bogus status
row 2 'domain'                       "--json and an empty domain"     --json create "" --ip "$NEW_IP" --size 128M
# ---- create
row 2 'domain'                       "create: empty domain"           create "" --ip "$NEW_IP" --size 128M
row 2 'domain'                       "create: 10 KB domain"           create "$BIGDOM" --ip "$NEW_IP" --size 128M
row 2 'domain'                       "create: \\x01 in domain"        create "a${NUL_LIKE}b.example.com" --ip "$NEW_IP" --size 128M
row 2 'domain'                       "create: newline in domain"      create $'new.example.com\nx' --ip "$NEW_IP" --size 128M
row 2 'domain'                       "create: tab in domain"          create $'new\t.example.com' --ip "$NEW_IP" --size 128M
row 2 'domain'                       "create: non-UTF-8 domain"       create "${FF}.example.com" --ip "$NEW_IP" --size 128M
row 2 'domain'                       "create: ../ in domain"          create "../etc" --ip "$NEW_IP" --size 128M
row 2 'domain'                       "create: domain after -- starting with -" create --ip "$NEW_IP" --size 128M -- -rf.example.com
row 2 'domain'                       "create: domain '-' after --"    create --ip "$NEW_IP" --size 128M -- -
row 2 'domain|-rf'                   "create: option injection -rf (CLI11: domain missing)"   create -rf --ip "$NEW_IP" --size 128M
row 2 'domain|help'                  "create: --help.example.com (CLI11: domain missing)"     create --help.example.com --ip "$NEW_IP" --size 128M
row 2 'domain'                       "create: missing domain"         create --ip "$NEW_IP" --size 128M
row 2 'ip'                           "create: missing --ip"           create "$NEW" --size 128M
row 2 'size'                         "create: missing --size"         create "$NEW" --ip "$NEW_IP"
row 2 'ip'                           "create: empty --ip"             create "$NEW" --ip "" --size 128M
row 2 'ip'                           "create: 10 KB --ip"             create "$NEW" --ip "$BIG" --size 128M
row 2 'ip'                           "create: --ip with prefix"       create "$NEW" --ip 203.0.113.20/24 --size 128M
row 2 'ip'                           "create: --ip IPv6"              create "$NEW" --ip ::1 --size 128M
row 2 'ip'                           "create: --ip with newline"      create "$NEW" --ip $'203.0.113.20\n' --size 128M
row 2 'ip'                           "create: --ip non-UTF-8"         create "$NEW" --ip "203.0.113.${FF}" --size 128M
row 2 'ip'                           "create: --ip=-1"                create "$NEW" --ip=-1 --size 128M
row 2 'size'                         "create: empty --size"           create "$NEW" --ip "$NEW_IP" --size ""
row 2 'size'                         "create: 10 KB --size"           create "$NEW" --ip "$NEW_IP" --size "$BIG"
row 2 'size'                         "create: --size overflow"        create "$NEW" --ip "$NEW_IP" --size 99999999999999999999999G
row 2 'size'                         "create: --size=-128M"           create "$NEW" --ip "$NEW_IP" --size=-128M
row 2 'size'                         "create: --size with \\x01"      create "$NEW" --ip "$NEW_IP" --size "128${NUL_LIKE}M"
row 2 'size'                         "create: --size 1e9"             create "$NEW" --ip "$NEW_IP" --size 1e9
row 2 'memory'                       "create: --memory 0"             create "$NEW" --ip "$NEW_IP" --size 128M --memory 0
row 2 'memory'                       "create: --memory below 32M"     create "$NEW" --ip "$NEW_IP" --size 128M --memory 1M
row 2 'memory'                       "create: --memory abc"           create "$NEW" --ip "$NEW_IP" --size 128M --memory abc
row 2 'memory'                       "create: empty --memory"         create "$NEW" --ip "$NEW_IP" --size 128M --memory ""
row 2 'memory'                       "create: --memory=-256M"         create "$NEW" --ip "$NEW_IP" --size 128M --memory=-256M
row 2 'memory'                       "create: 10 KB --memory"         create "$NEW" --ip "$NEW_IP" --size 128M --memory "$BIG"
row 2 'cpus'                         "create: --cpus 0"               create "$NEW" --ip "$NEW_IP" --size 128M --cpus 0
row 2 'cpus'                         "create: --cpus=-1"              create "$NEW" --ip "$NEW_IP" --size 128M --cpus=-1
row 2 'cpus'                         "create: --cpus abc"             create "$NEW" --ip "$NEW_IP" --size 128M --cpus abc
row 2 'cpus'                         "create: --cpus nan"             create "$NEW" --ip "$NEW_IP" --size 128M --cpus nan
row 2 'cpus'                         "create: --cpus inf"             create "$NEW" --ip "$NEW_IP" --size 128M --cpus inf
row 2 'cpus'                         "create: --cpus 1e400"           create "$NEW" --ip "$NEW_IP" --size 128M --cpus 1e400
row 2 'cpus'                         "create: empty --cpus"           create "$NEW" --ip "$NEW_IP" --size 128M --cpus ""
row 2 'pids'                         "create: --pids 0"               create "$NEW" --ip "$NEW_IP" --size 128M --pids 0
row 2 'pids'                         "create: --pids below 16"        create "$NEW" --ip "$NEW_IP" --size 128M --pids 15
row 2 'pids'                         "create: --pids abc"             create "$NEW" --ip "$NEW_IP" --size 128M --pids abc
row 2 'pids'                         "create: --pids=-1"              create "$NEW" --ip "$NEW_IP" --size 128M --pids=-1
row 2 'pids'                         "create: --pids 1.5"             create "$NEW" --ip "$NEW_IP" --size 128M --pids 1.5
row 2 'pids'                         "create: --pids overflow"        create "$NEW" --ip "$NEW_IP" --size 128M --pids 99999999999999999999
row 2 'ftp-tls|ftp_tls|tls'          "create: --ftp-tls maybe"        create "$NEW" --ip "$NEW_IP" --size 128M --ftp-tls maybe
row 2 'ftp-tls|ftp_tls|tls'          "create: empty --ftp-tls"        create "$NEW" --ip "$NEW_IP" --size 128M --ftp-tls ""
row 2 'ftp-tls|ftp_tls|tls'          "create: --ftp-tls with \\x01"   create "$NEW" --ip "$NEW_IP" --size 128M --ftp-tls "required${NUL_LIKE}"
row 2 'bogus'                        "create: unknown option"         create "$NEW" --ip "$NEW_IP" --size 128M --bogus
row 2 'extra|other\.example|positional' "create: two domains"         create "$NEW" other.example.com --ip "$NEW_IP" --size 128M
row 3 'exist|already|domain'         "create: domain exists (3: well formed, conflicts)" create "$GOOD" --ip "$NEW_IP" --size 128M
row 3 'ip|in use|already'            "create: IP in use (3: well formed, conflicts)"     create "$NEW" --ip "$GOOD_IP" --size 128M
# issue 14: names too long for a jail, host names another jail serves, sizes in one unit
row 2 'domain: name is 253 characters long \(at most 243' "create: 253-character domain (LXC cgroup names)" create "$(python3 -c 'print(("ab." * 84)[:246] + "example")')" --ip "$NEW_IP" --size 128M
row 2 'domain: name is 244 characters long' "create: 244-character domain" create "$(python3 -c 'print(("ab." * 84)[:237] + "example")')" --ip "$NEW_IP" --size 128M
row 3 "domain: www\.$GOOD is already served by jail $GOOD" "create: the www. name of an existing jail (3: conflicts)" create "www.$GOOD" --ip "$NEW_IP" --size 128M
row 3 "would also serve www\.$GOOD" "create: www.www. of an existing jail (3: conflicts)" create "www.www.$GOOD" --ip "$NEW_IP" --size 128M
row 3 "www\.$GOOD is already served" "clone to the www. name of an existing jail (3: conflicts)" clone "$GOOD" "www.$GOOD" --ip "$NEW_IP"
row 2 'size: 10 TiB is more than the [0-9]+(\.[0-9]+)? (MiB|GiB|TiB) free' "create: 10T on a smaller host, one unit in the message" create "$NEW" --ip "$NEW_IP" --size 10T
row 2 'size: 9\.1 TiB is more than the [0-9]+(\.[0-9]+)? (MiB|GiB|TiB) free' "create: 10TB (decimal) on a smaller host" create "$NEW" --ip "$NEW_IP" --size 10TB
row 2 "size: '1PB' has an unknown unit"  "create: --size 1PB"             create "$NEW" --ip "$NEW_IP" --size 1PB
# ---- status
row 2 'domain'                       "status: empty domain"           status ""
row 2 'domain'                       "status: non-UTF-8 domain"       status "$FF"
row 2 'domain'                       "status: 10 KB domain"           status "$BIGDOM"
row 2 'domain'                       "status: unknown jail"           status unknown.example.com
row 2 'bogus'                        "status: unknown option"         status --bogus
row 2 '-rf|rf'                       "status: option injection -rf"   status -rf
# ---- start / stop / restart
row 2 'domain|--all|jail'            "start: no jail and no --all"    start
row 2 'domain'                       "start: empty domain"            start ""
row 2 'domain'                       "start: unknown jail"            start unknown.example.com
row 2 'domain'                       "start: newline domain"          start $'\n'
row 2 'domain'                       "start: domain after -- with -"  start -- -rf.example.com
row 2 'jobs'                         "start: --jobs abc"              start --jobs abc "$GOOD"
row 2 'jobs'                         "start: 10 KB --jobs"            start --jobs "$BIG" "$GOOD"
row 2 'timeout'                      "start: --timeout is not start's" start --timeout 5 "$GOOD"
row 2 'domain|--all|jail'            "stop: no jail and no --all"     stop
row 2 'domain'                       "stop: unknown jail"             stop unknown.example.com
row 2 'domain'                       "stop: \\x01 domain"             stop "$NUL_LIKE"
row 2 'timeout'                      "stop: --timeout abc"            stop --timeout abc "$GOOD"
row 2 'timeout'                      "stop: --timeout overflow"       stop --timeout 99999999999999999999 "$GOOD"
row 2 'bogus'                        "stop: unknown option"           stop --bogus "$GOOD"
row 2 'domain|--all|jail'            "restart: no jail and no --all"  restart
row 2 'domain'                       "restart: unknown jail"          restart unknown.example.com
row 2 'domain'                       "restart: empty domain"          restart ""
row 2 'jobs'                         "restart: --jobs abc"            restart --jobs abc "$GOOD"
# ---- test / passwd / destroy
row 2 'domain'                       "test: empty domain"             test ""
row 2 'domain'                       "test: unknown jail"             test unknown.example.com
row 2 'domain'                       "test: 10 KB domain"             test "$BIGDOM"
row 2 'extra|positional|x\.example'  "test: extra argument"           test "$GOOD" x.example.com
row 2 'bogus'                        "test: unknown option"           test --bogus "$GOOD"
row 2 'domain'                       "passwd: empty domain"           passwd ""
row 2 'domain'                       "passwd: unknown jail"           passwd unknown.example.com
row 2 'domain'                       "passwd: domain after -- with -" passwd -- -rf
row 2 'domain'                       "passwd: non-UTF-8 domain"       passwd "$FF"
row 2 'domain|required'              "passwd: missing domain"         passwd
row 2 'domain'                       "destroy: empty domain"          destroy ""
row 2 'domain'                       "destroy: unknown jail"          destroy --force unknown.example.com
row 2 'domain'                       "destroy: domain after -- with -" destroy --force -- -rf
row 2 'domain|-rf'                   "destroy: option injection -rf (CLI11: domain missing)"  destroy -rf
row 2 'domain'                       "destroy: path traversal"        destroy --force "../jails/$GOOD"
row 2 'domain'                       "destroy: glob"                  destroy --force '*'
row 2 'domain'                       "destroy: slash inside"          destroy --force "$GOOD/.."
row 2 'domain'                       "destroy: \\x01 domain"          destroy --force "$NUL_LIKE"
# ---- set
row 2 'memory|cpus|pids|option|nothing' "set: no limit given"         set "$GOOD"
row 2 'memory'                       "set: --memory 0"                set "$GOOD" --memory 0
row 2 'memory'                       "set: --memory abc"              set "$GOOD" --memory abc
row 2 'memory'                       "set: --memory below 32M"        set "$GOOD" --memory 1M
row 2 'memory'                       "set: empty --memory"            set "$GOOD" --memory ""
row 2 'memory'                       "set: --memory=-1M"              set "$GOOD" --memory=-1M
row 2 'cpus'                         "set: --cpus 0"                  set "$GOOD" --cpus 0
row 2 'cpus'                         "set: --cpus=-0.5"               set "$GOOD" --cpus=-0.5
row 2 'cpus'                         "set: --cpus abc"                set "$GOOD" --cpus abc
row 2 'cpus'                         "set: --cpus nan"                set "$GOOD" --cpus nan
row 2 'pids'                         "set: --pids 0"                  set "$GOOD" --pids 0
row 2 'pids'                         "set: --pids abc"                set "$GOOD" --pids abc
row 2 'pids'                         "set: --pids below 16"           set "$GOOD" --pids 10
row 2 'pids'                         "set: 10 KB --pids"              set "$GOOD" --pids "$BIG"
row 2 'cpus'                         "set: good --memory, bad --cpus (nothing applied)" set "$GOOD" --memory 512M --cpus abc
row 2 'domain'                       "set: unknown jail"              set unknown.example.com --memory 512M
row 2 'domain'                       "set: empty domain"              set "" --memory 512M
row 2 'tls-cert'                     "set: --tls-cert not PEM"        set "$GOOD" --tls-cert "$W/plain.txt" --tls-key "$W/plain.txt"
row 2 'tls-cert'                     "set: --tls-cert missing file"   set "$GOOD" --tls-cert "$W/none.pem" --tls-key "$W/plain.txt"
row 2 'tls-cert'                     "set: --tls-cert a directory"    set "$GOOD" --tls-cert "$W/adir" --tls-key "$W/plain.txt"
row 2 'tls-key'                      "set: --tls-cert without --tls-key" set "$GOOD" --tls-cert "$W/plain.txt"
row 2 'https-only'                   "set: --https-only and --no-https-only" set "$GOOD" --https-only --no-https-only
row 2 'tls-auto'                     "set: --tls-auto and --tls-cert" set "$GOOD" --tls-auto --tls-cert "$W/plain.txt" --tls-key "$W/plain.txt"
row 2 'tls-cert'                     "create: --tls-cert not PEM"     create "$NEW" --ip "$NEW_IP" --size 128M --tls-cert "$W/plain.txt" --tls-key "$W/plain.txt"
# ---- alias
row 2 'alias'                        "alias add: 10 KB name"          alias add "$GOOD" "$BIGDOM"
row 2 'alias'                        "alias add: control character"   alias add "$GOOD" "a${NUL_LIKE}b.example.com"
row 2 'alias'                        "alias add: non-UTF-8"           alias add "$GOOD" "$FF"
row 2 'alias'                        "alias add: an IPv4 address"     alias add "$GOOD" 203.0.113.99
row 2 'alias'                        "alias add: the jail's own www." alias add "$GOOD" "www.$GOOD"
row 2 'alias'                        "alias remove: not an alias"     alias remove "$GOOD" none.example.com
row 2 'domain'                       "alias add: unknown jail"        alias add unknown.example.com x.example.com
# ---- fsck / grow
row 2 'domain'                       "fsck: empty domain"             fsck ""
row 2 'domain'                       "fsck: unknown jail"             fsck unknown.example.com
row 3 'running|stop|restart'         "fsck: running jail without --restart (3: state conflict)" fsck "$GOOD"
row 2 'bogus'                        "fsck: unknown option"           fsck --bogus "$GOOD"
row 2 'size'                         "grow: missing --size"           grow "$GOOD"
row 2 'size'                         "grow: empty --size"             grow "$GOOD" --size ""
row 2 'size'                         "grow: --size abc"               grow "$GOOD" --size abc
row 2 'size'                         "grow: smaller than current"     grow "$GOOD" --size 64M
row 2 'size'                         "grow: equal to current"         grow "$GOOD" --size 128M
row 2 'size'                         "grow: --size=-1G"               grow "$GOOD" --size=-1G
row 2 'size'                         "grow: 10 KB --size"             grow "$GOOD" --size "$BIG"
row 2 'size'                         "grow: --size overflow"          grow "$GOOD" --size 99999999999999999999T
row 2 'domain'                       "grow: unknown jail"             grow unknown.example.com --size 1G
# ---- clone
row 2 'dst|required|domain'          "clone: missing dst"             clone "$GOOD" --ip "$NEW_IP"
row 2 'ip'                           "clone: missing --ip"            clone "$GOOD" "$NEW"
row 2 'ip'                           "clone: bad --ip"                clone "$GOOD" "$NEW" --ip 999.1.1.1
row 2 'domain|dst'                   "clone: empty dst"               clone "$GOOD" "" --ip "$NEW_IP"
row 2 'domain|dst'                   "clone: dst after -- with -"     clone --ip "$NEW_IP" "$GOOD" -- -rf.example.com
row 2 'domain|src'                   "clone: unknown src"             clone unknown.example.com "$NEW" --ip "$NEW_IP"
row 2 'size'                         "clone: --size below src's"      clone "$GOOD" "$NEW" --ip "$NEW_IP" --size 64M
row 2 'size'                         "clone: --size abc"              clone "$GOOD" "$NEW" --ip "$NEW_IP" --size abc
row 3 'exist|already|domain|dst'     "clone: dst exists (3: conflicts)" clone "$GOOD" "$GOOD" --ip "$NEW_IP"
row 3 'ip|in use|already'            "clone: IP in use (3: conflicts)" clone "$GOOD" "$NEW" --ip "$GOOD_IP"
# ---- exec / console
row 2 'command|required'             "exec: no command"               exec "$GOOD"
row 2 'domain'                       "exec: unknown jail"             exec unknown.example.com -- /bin/true
row 2 'domain'                       "exec: empty domain"             exec "" -- /bin/true
row 2 'user'                         "exec: empty --user"             exec --user "" "$GOOD" -- /bin/true
row 2 'user'                         "exec: unknown --user"           exec --user nosuchuser "$GOOD" -- /bin/true
row 2 'user'                         "exec: --user with \\x01"        exec --user "ro${NUL_LIKE}ot" "$GOOD" -- /bin/true
row 2 'user'                         "exec: --user huge uid"          exec --user 99999999999999999999 "$GOOD" -- /bin/true
row 2 'user'                         "exec: --user=-1"                exec --user=-1 "$GOOD" -- /bin/true
row 2 'user'                         "exec: 10 KB --user"             exec --user "$BIG" "$GOOD" -- /bin/true
row 2 'domain'                       "console: unknown jail"          console unknown.example.com
row 2 'terminal|tty|stdin'           "console: stdin is not a terminal" console "$GOOD"
# ---- import-site
row 2 'from'                         "import-site: missing --from"    import-site "$NEW" --ip "$NEW_IP" --size 128M
row 2 'from'                         "import-site: empty --from"      import-site "$NEW" --ip "$NEW_IP" --size 128M --from ""
row 2 'from'                         "import-site: nonexistent --from" import-site "$NEW" --ip "$NEW_IP" --size 128M --from /nonexistent/site
row 2 'from'                         "import-site: --from /dev/zero"  import-site "$NEW" --ip "$NEW_IP" --size 128M --from /dev/zero
row 2 'from'                         "import-site: --from /etc/shadow" import-site "$NEW" --ip "$NEW_IP" --size 128M --from /etc/shadow
row 2 'from'                         "import-site: --from a text file" import-site "$NEW" --ip "$NEW_IP" --size 128M --from "$W/plain.txt"
row 2 'from'                         "import-site: 10 KB --from"      import-site "$NEW" --ip "$NEW_IP" --size 128M --from "/$BIG"
row 2 'domain'                       "import-site: bad domain"        import-site "$FF" --ip "$NEW_IP" --size 128M --from "$W/site"
row 2 'ip'                           "import-site: bad --ip"          import-site "$NEW" --ip 1.2.3 --size 128M --from "$W/site"
row 2 'size'                         "import-site: bad --size"        import-site "$NEW" --ip "$NEW_IP" --size 1K --from "$W/site"
row 2 'ftp-tls|ftp_tls|tls'          "import-site: bad --ftp-tls"     import-site "$NEW" --ip "$NEW_IP" --size 128M --from "$W/site" --ftp-tls no
# ---- backup / backups / export
row 2 'domain'                       "backup: empty domain"           backup ""
row 2 'domain'                       "backup: unknown jail"           backup unknown.example.com
row 3 'output.*exists'              "backup: --output is a directory (3: the path exists, never overwritten)" backup "$GOOD" --output "$W/adir"
row 2 'output'                       "backup: --output in a missing dir" backup "$GOOD" --output "$W/nodir/x.tar.zst"
row 2 'output'                       "metrics: --output in a missing dir" metrics --output "$W/nodir/m.prom"
row 2 'output'                       "metrics: --output newline name" metrics --output "$W/a"$'\n'"b.prom"
row 2 'output.*not a regular file'   "metrics: --output a symlink"    metrics --output "$W/alink"
row 2 'output.*not a regular file'   "metrics: --output a fifo"       metrics --output "$W/afifo"
[ -L "$W/alink" ] && [ -p "$W/afifo" ] || fail "metrics --output replaced a symlink or a fifo by a file"
row 2 'domain'                       "backups: non-UTF-8 domain"      backups "$FF"
row 2 'extra|positional|b\.example'  "backups: two domains"           backups a.example.com b.example.com
row 2 'bogus'                        "backups: unknown option"        backups --bogus
row 2 'file|required'                "export: missing file"           export "$GOOD"
row 2 'domain'                       "export: empty domain"           export "" "$W/e.tar.zst"
row 2 'domain'                       "export: unknown jail"           export unknown.example.com "$W/e.tar.zst"
row 3 'file.*exists'                "export: file is a directory (3: the path exists, never overwritten)"    export "$GOOD" "$W/adir"
row 2 'file: directory.*not exist'   "export: file in a missing dir"  export "$GOOD" "$W/nodir/e.tar.zst"
# ---- restore / import
for verb in restore import; do
row 2 'file|required'                "$verb: missing file"            "$verb"
row 2 'file|archive'                 "$verb: nonexistent file"        "$verb" /nonexistent/x.tar.zst
row 2 'file|archive'                 "$verb: /dev/zero"               "$verb" /dev/zero
row 2 'file|archive'                 "$verb: a directory"             "$verb" "$W/adir"
row 2 'file|archive'                 "$verb: /etc/shadow"             "$verb" /etc/shadow
row 2 'file|archive'                 "$verb: garbage .tar.zst"        "$verb" "$W/garbage.tar.zst"
row 2 'file|archive'                 "$verb: 10 KB file name"         "$verb" "/$BIG"
row 2 'domain'                       "$verb: bad --domain"            "$verb" "$ARCH" --domain "-rf"
row 2 'ip'                           "$verb: bad --ip"                "$verb" "$ARCH" --domain "$NEW" --ip 203.0.113
row 2 'size'                         "$verb: bad --size"              "$verb" "$ARCH" --domain "$NEW" --ip "$NEW_IP" --size abc
row 2 'size'                         "$verb: --size=-1G"              "$verb" "$ARCH" --domain "$NEW" --ip "$NEW_IP" --size=-1G
row 2 'domain'                       "$verb: non-UTF-8 --domain"      "$verb" "$ARCH" --domain "$FF" --ip "$NEW_IP"
row 3 'exist|already|domain'         "$verb: the archive's jail exists (3: conflicts)" "$verb" "$ARCH"
done
row 2 'replace|bogus'                "import: no --replace"           import "$W/garbage.tar.zst" --replace
# ---- repair / host
row 2 'domain|--all|jail'            "repair: no jail and no --all"   repair
row 2 'domain'                       "repair: empty domain"           repair ""
row 2 'domain'                       "repair: unknown jail"           repair unknown.example.com
row 2 'domain'                       "repair: 10 KB domain"           repair "$BIGDOM"
row 2 'bogus'                        "repair: unknown option"         repair --bogus
row 2 'subcommand|required|check'    "host: no subcommand"            host
row 2 'bogus|subcommand|extra'       "host: unknown subcommand"       host bogus
row 2 'bogus'                        "host check: unknown option"     host check --bogus
row 2 'extra|positional|x'           "host check: extra argument"     host check x
# ---- former known bugs, fixed: bad --jobs/--timeout values, empty or control-character names
row 2 'jobs'                       "start: --jobs 0"                start --jobs 0 "$GOOD"
row 2 'jobs'                       "start: --jobs=-1"               start --jobs=-1 "$GOOD"
row 2 'jobs'                       "start: empty --jobs"            start --jobs "" "$GOOD"
row 2 'timeout'                    "stop: --timeout=-1"             stop --timeout=-1 "$GOOD"
row 2 'timeout'                    "stop: empty --timeout"          stop --timeout "" "$GOOD"
row 2 'jobs'                       "stop: --jobs 0"                 stop --jobs 0 "$GOOD"
row 2 'jobs'                       "stop: --jobs=-1 --all"          stop --jobs=-1 --all
row 2 'timeout'                    "restart: --timeout=-5"          restart --timeout=-5 "$GOOD"
row 2 'output'                     "backup: empty --output"         backup "$GOOD" --output ""
row 2 'output'                     "backup: --output newline name"  backup "$GOOD" --output "$W/a"$'\n'"b.tar.zst"
row 2 'domain'                     "backups: empty domain"          backups ""
row 2 'file|output|archive'        "export: empty file"             export "$GOOD" ""
for verb in restore import; do
row 2 'domain'                     "$verb: empty --domain" "$verb" "$ARCH" --domain ""
row 2 'file|archive'               "$verb: empty file name" "$verb" ""
done

row 2 'all|domain|both'                    "start: --all and a domain"      start --all "$GOOD"
row 2 'all|domain|both'                    "stop: --all and a domain"       stop --all "$GOOD"
# ---- issue 14: limits above what the host has (9)
row 2 'memory.*host'                 "create: --memory above the host's" create "$NEW" --ip "$NEW_IP" --size 128M --memory 1T
row 2 'cpus.*host'                   "create: --cpus above the host's"  create "$NEW" --ip "$NEW_IP" --size 128M --cpus 1024
row 2 'memory.*host'                 "import-site: --memory above the host's" import-site "$NEW" --ip "$NEW_IP" --size 128M --from "$W/site" --memory 1T
row 2 'memory.*host'                 "set: --memory above the host's"   set "$GOOD" --memory 1T
row 2 'cpus.*host'                   "set: --cpus above the host's"     set "$GOOD" --cpus 1024
# ---- issue 14: an address outside the uplink's subnet without --routed (3)
row 2 'ip.*outside.*subnet.*routed'  "create: --ip off the uplink's subnet" create "$NEW" --ip 198.51.100.20 --size 128M
row 2 'ip.*outside.*subnet.*routed'  "clone: --ip off the uplink's subnet"  clone "$GOOD" "$NEW" --ip 198.51.100.20
row 2 'ip.*outside.*subnet.*routed'  "import: --ip off the uplink's subnet" import "$ARCH" --domain "$NEW" --ip 198.51.100.20
row 2 'ip.*outside.*subnet.*routed'  "import-site: --ip off the uplink's subnet" import-site "$NEW" --ip 198.51.100.20 --size 128M --from "$W/site"
# ---- issue 14: an address a neighbour answers ARP probes for (2; 3: well formed, conflicts)
row 3 'ip.*in use.*answered'         "create: --ip of a neighbour (3: conflicts)" create "$NEW" --ip 203.0.113.254 --size 128M
row 3 'ip.*in use.*answered'         "clone: --ip of a neighbour (3: conflicts)"  clone "$GOOD" "$NEW" --ip 203.0.113.254
row 3 'ip.*in use.*answered'         "import: --ip of a neighbour (3: conflicts)" import "$ARCH" --domain "$NEW" --ip 203.0.113.254
row 3 'ip.*in use.*answered'         "restore: --ip of a neighbour (3: conflicts)" restore "$ARCH" --domain "$NEW" --ip 203.0.113.254
row 3 'ip.*in use.*answered'         "import-site: --ip of a neighbour (3: conflicts)" import-site "$NEW" --ip 203.0.113.254 --size 128M --from "$W/site"

info "$N rows, ${#FAILURES[@]} failing, ${#KNOWN[@]} known bugs"
if [ ${#FAILURES[@]} -gt 0 ]; then
  for r in "${FAILURES[@]}"; do echo "FAIL: $r" >&2; done
  fail "${#FAILURES[@]} of $N bad-input rows misbehaved (listed above)"
fi
[ "$N" -ge 100 ] || fail "only $N rows"

info "the healthy jail is untouched and still passes its test"
assert_state_unchanged table "state after the whole table"
assert_exit 0 jc test "$GOOD"

# ---- KNOWN_BUGS: rows where jailctl misbehaves today (see the report to the lead). They run
# AFTER the checks above (some stop or restart the healthy jail: the bug itself), are printed,
# and are NOT asserted. When a bug is fixed, move its row back into the table above.
info "known bugs (printed, not asserted)"
for r in "${KNOWN[@]}"; do echo "KNOWN BUG (not asserted): $r" >&2; done
echo "bad_input_all: OK ($((N - ${#KNOWN[@]})) rows asserted, ${#KNOWN[@]} known bugs printed)"
