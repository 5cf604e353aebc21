#!/usr/bin/env bash
# jailctl(8) lints clean (man --warnings) and names every verb and every option that the
# binary's --help lists, so the page cannot drift from the program.  Usage: manpage.sh JAILCTL
set -euo pipefail
JAILCTL=$1
PAGE=$(dirname "$0")/../../docs/jailctl.8
command -v man >/dev/null || { echo "skipped: man (man-db) not installed" >&2; exit 77; }
fail=0

warnings=$(MANWIDTH=80 man --warnings -l "$PAGE" 2>&1 >/dev/null) || { echo "man -l $PAGE failed: $warnings"; exit 1; }
[ -z "$warnings" ] || { echo "man --warnings on $PAGE:"; echo "$warnings"; fail=1; }

# The page's source as plain words: roff's \- is a hyphen, font escapes go.
text=$(sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' "$PAGE")
verbs() { sed -n '/^Subcommands:/,/^$/{/^  [a-z]/{s/^  \([a-z][a-z-]*\).*/\1/;p}}'; }
options() { grep -oE '^ +(-[A-Za-z],)?--[a-z][a-z-]*' | tr ',' '\n' | tr -d ' '; }
has() { grep -qE -- "(^|[^a-z-])$1([^a-z-]|$)" <<<"$text"; }

checked=0
check_help() {  # words of a verb ("" = the program, "host", "host check")
  local help; help=$("$JAILCTL" $1 --help) || { echo "'jailctl $1 --help' failed"; fail=1; return; }
  local o v
  for o in $(options <<<"$help"); do
    checked=$((checked + 1))
    has "$o" || { echo "docs/jailctl.8 lacks the option $o of 'jailctl $1': document it there"; fail=1; }
  done
  for v in $(verbs <<<"$help"); do
    checked=$((checked + 1))
    has "$v" || { echo "docs/jailctl.8 lacks the verb '$1 $v': document it there"; fail=1; }
    check_help "${1:+$1 }$v"
  done
}
check_help ""
[ "$checked" -gt 40 ] || { echo "only $checked verbs and options found in --help: is the parser broken?"; fail=1; }
# every exit status the program uses (util/result.h) is explained
for status in 0 2 3 4 5; do
  grep -qx "\.B $status" "$PAGE" || { echo "jailctl.8 does not explain exit status $status"; fail=1; }
done
[ $fail -eq 0 ] && echo "jailctl.8: clean, $checked verbs and options of --help all documented"
exit $fail
