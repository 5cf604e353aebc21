# The console's own logic (KO page, field errors, roles, phone width...) in the real chromium
# against tests/browser/mock_api.mjs, a stand-in for serve that speaks the API contract: no
# jails, about 20 s. browser.console is the same script against the real `jailctl serve`.
# (In the sandbox like the others: the browser and the mock talk over the sandbox's loopback.)
set -euo pipefail
command -v node >/dev/null || fail "node is not installed: run scripts/install-deps.sh"
[ -x /usr/bin/chromium ] || fail "/usr/bin/chromium is not installed: run scripts/install-deps.sh"
HOME="$SANDBOX_DIR" timeout 200 node "$TESTS_DIR/browser/mock_run.mjs" || fail "the browser test against the mock API failed (above)"
echo "browser console_mock: OK"
