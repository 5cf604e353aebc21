// node mock_run.mjs — console.mjs against mock_api.mjs (no root, no jails): the console's own
// logic in the real chromium, in seconds. CTest: browser.console_mock.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const mock = spawn(process.execPath, [path.join(here, 'mock_api.mjs'), '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise((resolve, reject) => {
  mock.stdout.on('data', (chunk) => {
    const m = String(chunk).match(/http:\/\/127\.0\.0\.1:\d+/);
    if (m) resolve(m[0]);
  });
  mock.on('exit', (code) => reject(new Error(`mock_api.mjs exited ${code}`)));
});
const test = spawn(process.execPath, [path.join(here, 'console.mjs')], {
  stdio: 'inherit',
  env: { ...process.env, CONSOLE_URL: url, ADMIN_TOKEN: 'admin-token', VIEWER_TOKEN: 'viewer-token',
    DOMAIN: 'example.com', IP: '203.0.113.10', SIZE: '64M', KO_DOMAIN: 'fail.example.com',
    REVOKE_ADMIN: `curl --silent --fail -X POST ${url}/mock/revoke/admin-token` },
});
const code = await new Promise((resolve) => test.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))));
mock.kill();
process.exit(code);
