#!/usr/bin/env bash
# The bash completion (contrib/completion/jailctl.bash) offers the verbs, a verb's options and
# the jails of the registry; the zsh one is valid zsh.  Usage: completion.sh JAILCTL
set -euo pipefail
JAILCTL=$(realpath "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
BASH_COMPLETION=$HERE/../../contrib/completion/jailctl.bash
ZSH_COMPLETION=$HERE/../../contrib/completion/_jailctl
[ "$(id -u)" -eq 0 ] || { echo "skipped: jailctl status --names needs root" >&2; exit 77; }
command -v sqlite3 >/dev/null || { echo "skipped: sqlite3 not installed" >&2; exit 77; }
ROOT=$(mktemp -d /tmp/jailctl-completion.XXXXXX)
trap 'rm -rf "$ROOT"' EXIT
fail=0

# A registry with two jails (only the registry is read: no jail needs to exist).
"$JAILCTL" --root "$ROOT" status >/dev/null
for d in shop.example.com blog.example.org; do
  sqlite3 "$ROOT/jailctl.db" "INSERT INTO jails(domain, ip, size_bytes, sparse, ftp_user, ftp_tls, id_base, state, created)
    VALUES('$d', '203.0.113.$((RANDOM % 200 + 1))', 134217728, 0, 'u$RANDOM', 'required', 0, 'ready', '2026-12-03T00:00:00Z')"
done

# complete_line WORD...: the candidates for the last word (COMP_WORDS/COMP_CWORD as bash sets them)
complete_line() {
  bash -c '
    source "$1"; shift
    complete -p jailctl >/dev/null || { echo "no completion registered for jailctl" >&2; exit 1; }
    COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
    _jailctl jailctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
    printf "%s\n" "${COMPREPLY[@]}"' _ "$BASH_COMPLETION" "$@"
}
expect() {  # what candidate WORD...
  local what=$1 want=$2; shift 2
  local got; got=$(complete_line "$@") || { echo "completion of '$*' failed"; fail=1; return; }
  grep -qx -- "$want" <<<"$got" || { echo "$what: '$want' not offered for '$*'; got:"; echo "$got" | head -n 20; fail=1; }
}
refuse() {  # what candidate WORD...
  local what=$1 bad=$2; shift 2
  local got; got=$(complete_line "$@")
  grep -qx -- "$bad" <<<"$got" && { echo "$what: '$bad' offered for '$*'"; fail=1; }
  return 0
}

expect "verbs" create "$JAILCTL" ""
expect "verbs" credentials "$JAILCTL" cr
expect "verbs" metrics "$JAILCTL" --root "$ROOT" m
refuse "verbs by prefix" status "$JAILCTL" cr
expect "host's verbs" check "$JAILCTL" host ""
expect "a sub-verb's verbs" add "$JAILCTL" cluster pool ""
expect "a sub-verb's verbs by prefix" remove "$JAILCTL" cluster pool re
refuse "no sub-verbs after the last" list "$JAILCTL" cluster pool add ""
expect "an option of create" --ip "$JAILCTL" create example.net --i
expect "an option of grow" --offline "$JAILCTL" grow x --of
expect "a global option after the verb" --json "$JAILCTL" status --j
expect "an option of metrics" --output "$JAILCTL" metrics --
expect "a jail name" shop.example.com "$JAILCTL" --root "$ROOT" start s
expect "a jail name" blog.example.org "$JAILCTL" --root "$ROOT" credentials ""
expect "a jail name (global option after)" shop.example.com "$JAILCTL" destroy --root "$ROOT" sh
refuse "no jail names for create" shop.example.com "$JAILCTL" --root "$ROOT" create ""
refuse "no jail names for clone's DST" shop.example.com "$JAILCTL" --root "$ROOT" clone shop.example.com ""
expect "clone's SRC is a jail" shop.example.com "$JAILCTL" --root "$ROOT" clone ""
refuse "no jail names for metrics" shop.example.com "$JAILCTL" --root "$ROOT" metrics ""
expect "export's FILE is a file" "$ROOT/jailctl.db" "$JAILCTL" --root "$ROOT" export shop.example.com "$ROOT/jailctl.d"
expect "--ftp-tls values" optional "$JAILCTL" create x --ftp-tls o

if command -v zsh >/dev/null; then
  zsh -n "$ZSH_COMPLETION" || { echo "zsh -n $ZSH_COMPLETION failed"; fail=1; }
else
  echo "zsh not installed: its completion was not checked"
fi
[ $fail -eq 0 ] && echo "completion: verbs, options and jail names offered"
exit $fail
