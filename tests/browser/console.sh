# The web console in the real Debian chromium (headless, playwright-core) against the real
# `jailctl serve` in this sandbox: sign in, create a jail from the form and watch its steps
# arrive live, use the FTP credentials read from the page over FTPS from the client netns,
# see it in the list, stop and start it, read its log, check the phone width, then a viewer
# token (no buttons, API refused), then destroy it with the typed confirmation.
# SCREENSHOT_DIR=dir keeps a PNG of each page (docs/console/ holds a set).
set -euo pipefail
D=console.example.com IP=203.0.113.20 SIZE=64M
BROWSER_DIR="$TESTS_DIR/browser"

# (until serve is on main: a jailctl without it skips this test, saying so)
grep -qE '^ +serve\b' <<<"$("$JAILCTL" --help)" || { echo "skipped: this jailctl has no serve verb" >&2; exit 77; }
command -v node >/dev/null || fail "node is not installed: run scripts/install-deps.sh"
[ -x /usr/bin/chromium ] || fail "/usr/bin/chromium is not installed: run scripts/install-deps.sh"
[ -d "$BROWSER_DIR/node_modules/playwright-core" ] ||
  fail "no playwright-core in $BROWSER_DIR/node_modules: run scripts/install-deps.sh (npm ci there)"

info "tokens"
assert_exit 0 jc token add browser-admin --role admin
ADMIN_TOKEN=$(tail -n 1 <<<"$OUT")
assert_exit 0 jc token add browser-viewer --role viewer
VIEWER_TOKEN=$(tail -n 1 <<<"$OUT")
[ -n "$ADMIN_TOKEN" ] && [ -n "$VIEWER_TOKEN" ] || fail "token add printed no token"

info "jailctl serve on 127.0.0.1:8443 (inside the sandbox's network namespace)"
# (not through jc, a function: $! must be serve's own PID)
"$JAILCTL" --root "$JAILCTL_ROOT" serve --listen 127.0.0.1:8443 >"$SANDBOX_DIR/serve.out" 2>&1 &
SERVE_PID=$!
stop_serve() {
  kill -TERM "$SERVE_PID" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 "$SERVE_PID" 2>/dev/null || break; sleep 0.2; done
  kill -KILL "$SERVE_PID" 2>/dev/null || true
  wait "$SERVE_PID" 2>/dev/null || true
}
trap 'rc=$?; stop_serve; [ $rc -eq 0 ] || { echo "--- serve output:" >&2; tail -n 40 "$SANDBOX_DIR/serve.out" >&2; }' EXIT
retry 30 curl --silent --insecure --max-time 2 -o /dev/null https://127.0.0.1:8443/healthz ||
  fail "serve does not answer https://127.0.0.1:8443/healthz:"$'\n'"$(cat "$SANDBOX_DIR/serve.out")"

info "the console's files are served with a strict CSP"
headers=$(curl --silent --insecure --max-time 5 -D - -o /dev/null https://127.0.0.1:8443/)
assert_match "$headers" $'HTTP/[0-9.]+ 200' "GET / status"
assert_match "$headers" $'[Cc]ontent-[Tt]ype: text/html' "GET / content type"
assert_match "$headers" $'[Cc]ontent-[Ss]ecurity-[Pp]olicy: default-src \'self\'' "GET / CSP"

info "the browser"
CONSOLE_URL=https://127.0.0.1:8443 ADMIN_TOKEN=$ADMIN_TOKEN VIEWER_TOKEN=$VIEWER_TOKEN \
  DOMAIN=$D IP=$IP SIZE=$SIZE FTPS_CHECK="$BROWSER_DIR/helpers/ftps_roundtrip.sh" \
  REVOKE_ADMIN="\"\$JAILCTL\" --root \"\$JAILCTL_ROOT\" token remove browser-admin" \
  HOME="$SANDBOX_DIR" timeout 300 node "$BROWSER_DIR/console.mjs" || fail "the browser test failed (above)"

info "nothing left of $D"
assert_exit 0 jc status --json
assert_eq 0 "$(json_eval "$OUT_FILE" 'len(d)')" "jails after the console destroyed $D"
stop_serve
grep -qF -- "$ADMIN_TOKEN" "$SANDBOX_DIR/serve.out" && fail "serve logged a token"
echo "browser console: OK"
