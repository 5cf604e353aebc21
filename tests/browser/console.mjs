// The web console driven in the real Debian chromium (headless) by playwright-core.
// Run by console.sh inside the test sandbox, against a real `jailctl serve`:
//   CONSOLE_URL ADMIN_TOKEN VIEWER_TOKEN DOMAIN IP SIZE   what to drive
//   FTPS_CHECK   a script run as FTPS_CHECK IP DOMAIN USER PASSWORD FINGERPRINT (the customer's
//                side: FTPS upload, HTTP read-back); unset: skipped (the mock API)
//   REVOKE_ADMIN a shell command revoking ADMIN_TOKEN (checked last: the console must drop it)
//   KO_DOMAIN    when set, a create of this domain is expected to fail (the mock's failing
//                create): the KO page must name the step and link its log
//   SCREENSHOT_DIR  when set, a PNG of each page goes there
//   CHROMIUM     the browser (default /usr/bin/chromium)
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const { chromium } = await import('playwright-core').catch(() => {
  console.error('FAIL: no playwright-core in tests/browser/node_modules: run scripts/install-deps.sh (npm ci there)');
  process.exit(1);
});
const env = process.env;
const need = (name) => env[name] || fail(`environment variable ${name} is not set`);
const BASE = need('CONSOLE_URL').replace(/\/$/, '');
const ADMIN = need('ADMIN_TOKEN');
const VIEWER = need('VIEWER_TOKEN');
const DOMAIN = need('DOMAIN');
const IP = need('IP');
const SIZE = need('SIZE');
const SHOTS = env.SCREENSHOT_DIR || '';
const started = Date.now();

function fail(message) {
  throw new Error(message);
}
function check(condition, message) {
  if (!condition) fail(message);
}
const info = (message) => console.error(`--- [${((Date.now() - started) / 1000).toFixed(1)}s] ${message}`);

// Every page shown is checked for a value the code failed to format, then photographed.
async function shot(page, name) {
  // each text node of the page (not a log file's lines): a value printed unformatted
  const bad = await page.evaluate(() => {
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (node.parentElement?.closest('pre.log, script')) continue;
      if (/\b(null|undefined|NaN)\b|\[object Object\]/.test(node.data)) return `${node.parentElement?.tagName}: ${node.data.trim()}`;
    }
    return null;
  });
  check(!bad, `page ${name} shows an unformatted value (${bad})`);
  if (!SHOTS) return;
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

// Page errors and CSP violations fail the test (refused fetches are expected: 401/403 cases).
function watch(page, problems) {
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content.Security.Policy|Uncaught|SyntaxError|TypeError/i.test(m.text())) {
      problems.push(`console: ${m.text()}`);
    }
  });
}

async function heading(page, text) {
  await page.locator('h1', { hasText: text }).first().waitFor({ timeout: 15000 });
}

async function focusedTag(page) {
  return page.evaluate(() => `${document.activeElement?.tagName}:${document.activeElement?.textContent?.trim().slice(0, 40)}`);
}

async function signIn(page, token) {
  await page.goto(`${BASE}/`);
  await heading(page, 'Sign in');
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await heading(page, 'Jails');
}

// The id of the task shown last in the page ('' when none).
const shownTask = (page) => page.evaluate(() => [...document.querySelectorAll('.task')].pop()?.dataset.task ?? '');

// Waits for a task other than `previous` to be shown and to end; returns its state (ok/ko).
async function taskEnd(page, previous = '', timeout = 120000) {
  const handle = await page.waitForFunction((prev) => {
    const task = [...document.querySelectorAll('.task')].pop();
    const state = task?.querySelector('.task-state')?.dataset.state;
    return task && task.dataset.task !== prev && state !== 'running' ? state : null;
  }, previous, { timeout, polling: 100 });
  return handle.jsonValue();
}

async function jailAction(page, action) {
  info(`${action} from the jail page`);
  const previous = await shownTask(page);
  await page.locator(`button[data-action="${action}"]`).click();
  const state = await taskEnd(page, previous);
  const text = await page.locator('.task-result').last().innerText();
  check(state === 'ok', `${action}: the task ended ${state}: ${text}`);
  return text;
}

async function factsState(page, want) {
  await page.waitForFunction((w) => document.querySelector('dl.facts')?.dataset.state === w, want, { timeout: 15000 })
    .catch(async () => fail(`the jail page does not show state ${want}: ${await page.locator('dl.facts').innerText()}`));
}

async function noHorizontalScroll(page, what) {
  const { scroll, client } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
  check(scroll <= client, `${what} scrolls horizontally at ${client} px: ${scroll} px wide`);
}

async function main() {
  const browser = await chromium.launch({
    executablePath: env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
  const problems = [];
  try {
    const admin = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 860 } });
    const page = await admin.newPage();
    watch(page, problems);

    info('the token prompt; a wrong token is refused with a message');
    await page.goto(`${BASE}/`);
    await heading(page, 'Sign in');
    check((await focusedTag(page)).startsWith('INPUT'), 'the token field has the focus');
    await shot(page, 'token-prompt');
    await page.getByLabel('API token').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('.notice', { hasText: 'refused' }).waitFor({ timeout: 10000 });
    check(await page.evaluate(() => sessionStorage.length === 0), 'a refused token is not kept');

    info('sign in as admin (keyboard: type, Enter)');
    await page.getByLabel('API token').fill(ADMIN);
    await page.keyboard.press('Enter');
    await heading(page, 'Jails');
    check((await focusedTag(page)).startsWith('H1'), `the focus moves to the heading, not ${await focusedTag(page)}`);
    check(await page.locator('#who-name').innerText().then((t) => t.includes('(admin)')), 'the header names the role');

    info('the create form: an error lands next to the field the API names');
    await page.getByRole('link', { name: 'Create a jail' }).click();
    await heading(page, 'Create a jail');
    await page.getByLabel('Domain').fill('not a domain!');
    await page.getByLabel('IPv4 address').fill(IP);
    await page.getByLabel('Disk size').fill(SIZE);
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    const domainError = page.locator('#f-domain-error');
    await domainError.filter({ hasText: /\S/ }).waitFor({ timeout: 10000 });
    check(await page.getByLabel('Domain').getAttribute('aria-invalid') === 'true', 'the domain field is marked invalid');
    check(await page.locator('.task').count() === 0, 'no task started for a bad domain');
    await shot(page, 'create-form-error');

    if (env.KO_DOMAIN) {
      info(`a failing create (${env.KO_DOMAIN}): KO with the step, its message and the log`);
      await page.getByLabel('Domain').fill(env.KO_DOMAIN);
      await page.getByRole('button', { name: 'Create', exact: true }).click();
      check(await taskEnd(page) === 'ko', 'the failing create did not end KO');
      check((await page.locator('.ko-cause code').innerText()).length > 0, 'the KO names no step');
      check(await page.locator('.task-result a[href*="/logs/"]').count() === 1, 'the KO has no link to its log');
      check((await focusedTag(page)).startsWith('H3:KO'), `the focus moves to the KO result, not ${await focusedTag(page)}`);
      await shot(page, 'create-ko');
      await page.getByRole('button', { name: 'Create another jail' }).click();
      await heading(page, 'Create a jail');
      await page.getByLabel('IPv4 address').fill(IP);
      await page.getByLabel('Disk size').fill(SIZE);
    }

    info(`create ${DOMAIN} ${IP} ${SIZE} from the form`);
    await page.getByLabel('Domain').fill(DOMAIN);
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await page.locator('.task').waitFor({ timeout: 10000 });
    // watch the steps arrive: (time, rows visible, task still running) every 50 ms
    const seen = [];
    let progressShot = false;
    for (;;) {
      const s = await page.evaluate(() => ({
        rows: document.querySelectorAll('.steps li').length,
        done: document.querySelector('.task-state')?.dataset.state !== 'running',
      }));
      seen.push({ t: Date.now(), ...s });
      if (!s.done && s.rows >= 3 && !progressShot) {
        progressShot = true;
        await shot(page, 'create-progress');
      }
      if (s.done) break;
      check(Date.now() - seen[0].t < 150000, 'create did not end within 150 s');
      await page.waitForTimeout(50);
    }
    const state = await page.locator('.task-state').getAttribute('data-state');
    const resultText = await page.locator('.task-result').innerText();
    check(state === 'ok', `create ended ${state}: ${resultText}`);
    // Live, not replayed at the end: rows were on the page while the task still ran, and the
    // browser received the steps as far apart as the server started them (a stream flushed
    // at the end would deliver them all within a few ms).
    const rowsBeforeDone = Math.max(...seen.filter((s) => !s.done).map((s) => s.rows), 0);
    const steps = (await page.$$eval('.steps li', (lis) => lis.map((li) => ({
      name: li.dataset.step, received: Number(li.dataset.received),
      start: Date.parse(li.querySelector('time')?.getAttribute('datetime') ?? ''),
    })))).sort((a, b) => a.start - b.start);
    info(`steps (server start → browser received, ms from the first): ${steps.map((x) =>
      `${x.name} ${x.start - steps[0].start}→${x.received - steps[0].received}`).join(', ')}`);
    check(steps.every((x) => Number.isFinite(x.start)), 'a step shows no start time');
    check(rowsBeforeDone >= 3, `only ${rowsBeforeDone} step rows appeared before the task ended: the steps did not arrive live`);
    // the longest pause between two step starts on the server must reach the page as a pause
    const gaps = steps.slice(1).map((x, i) => ({ name: x.name, server: x.start - steps[i].start, browser: x.received - steps[i].received }));
    const widest = gaps.reduce((w, g) => (g.server > w.server ? g : w), { server: -1 });
    check(widest.server >= 50, `no two steps started 50 ms apart (widest ${widest.server} ms): cannot tell a live stream from a replay`);
    check(widest.browser >= widest.server / 2,
      `step ${widest.name} started ${widest.server} ms after the previous one but reached the page ${widest.browser} ms after it: not live`);
    const user = await page.locator('[data-credential="user"]').innerText();
    const password = await page.locator('[data-credential="password"]').innerText();
    const fingerprint = await page.locator('[data-credential="fingerprint"]').innerText();
    check(/^[A-Za-z2-9]{20,}$/.test(password), `the password shown looks wrong: '${password}'`);
    check(/^[0-9A-Fa-f:]{64,}$/.test(fingerprint), `the fingerprint shown looks wrong: '${fingerprint}'`);
    await shot(page, 'create-ok');

    if (env.FTPS_CHECK) {
      info(`the customer uses the credentials read from the page: FTPS as ${user} from the client namespace`);
      execFileSync(env.FTPS_CHECK, [IP, DOMAIN, user, password, fingerprint], { stdio: 'inherit', timeout: 60000 });
    }

    info('the list shows the jail running');
    await page.getByRole('link', { name: 'Jails', exact: true }).click();
    await heading(page, 'Jails');
    const row = page.locator(`tr[data-domain="${DOMAIN}"]`);
    await row.waitFor({ timeout: 10000 });
    check(await row.getAttribute('data-state') === 'running', `list state: ${await row.getAttribute('data-state')}`);
    check((await row.innerText()).includes(IP), 'the list row shows the IP');
    await shot(page, 'list');

    info('the jail page: stop, then start');
    await row.getByRole('link', { name: DOMAIN }).click();
    await heading(page, DOMAIN);
    await factsState(page, 'running');
    await shot(page, 'jail');
    await jailAction(page, 'stop');
    await factsState(page, 'stopped');
    check(await page.locator('button[data-action="stop"]').isDisabled(), 'stop is disabled on a stopped jail');
    await jailAction(page, 'start');
    await factsState(page, 'running');
    await shot(page, 'jail-action');

    info('the log viewer');
    await page.getByRole('link', { name: 'Logs', exact: true }).click();
    await heading(page, `Logs of ${DOMAIN}`);
    const logLinks = page.locator('table.logs tbody a');
    await logLinks.first().waitFor({ timeout: 10000 });
    const names = await logLinks.allInnerTexts();
    check(names.some((n) => n.endsWith('-create.log')), `no create log listed: ${names.join(', ')}`);
    await shot(page, 'logs');
    await page.locator('table.logs tbody a', { hasText: '-create.log' }).first().click();
    await page.locator('pre.log').filter({ hasText: /\S/ }).waitFor({ timeout: 10000 });
    const logText = await page.locator('pre.log').innerText();
    check(!logText.includes(password), 'the FTP password is in the log shown');
    await shot(page, 'log');

    info('at phone width (375 px): no horizontal scroll on any page');
    await page.setViewportSize({ width: 375, height: 812 });
    await noHorizontalScroll(page, 'the log page');
    for (const [hash, what, name] of [['#/', 'the list', 'phone-list'], [`#/jail/${DOMAIN}`, 'the jail page', 'phone-jail'],
      ['#/create', 'the create form', 'phone-create']]) {
      await page.goto(`${BASE}/${hash}`);
      await page.locator('h1').first().waitFor();
      await page.waitForTimeout(300);
      await noHorizontalScroll(page, what);
      await shot(page, name);
    }
    await page.setViewportSize({ width: 1280, height: 860 });

    info('a viewer: no create form, no action buttons, its API calls refused');
    const viewerContext = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 860 } });
    const viewer = await viewerContext.newPage();
    watch(viewer, problems);
    await signIn(viewer, VIEWER);
    await viewer.locator(`tr[data-domain="${DOMAIN}"]`).waitFor({ timeout: 10000 });
    check(await viewer.getByRole('link', { name: 'Create a jail' }).count() === 0, 'a viewer sees the create link');
    check(!(await viewer.locator('#nav-create').isVisible()), 'a viewer sees Create in the menu');
    await shot(viewer, 'viewer-list');
    await viewer.locator(`tr[data-domain="${DOMAIN}"] a`).click();
    await heading(viewer, DOMAIN);
    await factsState(viewer, 'running');
    check(await viewer.locator('button[data-action], section.actions, form.destroy').count() === 0,
      'a viewer sees action buttons');
    await shot(viewer, 'viewer-jail');
    await viewer.goto(`${BASE}/#/create`);
    await heading(viewer, 'Create a jail');
    check(await viewer.locator('form.create').count() === 0, 'a viewer gets the create form');
    const refused = await viewer.evaluate(async ({ domain, ip, size }) => {
      const token = sessionStorage.getItem('jailctl-token');
      const post = (path, body) => fetch(`/api/v1${path}`, { method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      return [(await post(`/jails/${domain}/stop`, {})).status, (await post('/jails', { domain: `x${domain}`, ip, size })).status,
        (await fetch(`/api/v1/jails/${domain}`, { method: 'DELETE', headers: { Authorization: `Bearer ${token}` } })).status];
    }, { domain: DOMAIN, ip: IP, size: SIZE });
    check(refused.every((s) => s === 403), `a viewer's stop/create/destroy from the page got ${refused.join('/')}, expected 403`);
    await viewerContext.close();

    info('destroy with the typed confirmation');
    await page.goto(`${BASE}/#/jail/${DOMAIN}`);
    await heading(page, DOMAIN);
    await factsState(page, 'running');
    const destroy = page.locator('button[data-action="destroy"]');
    check(await destroy.isDisabled(), 'destroy is enabled before the domain is typed');
    await page.getByLabel(`Type ${DOMAIN} to confirm`).fill(`${DOMAIN}x`);
    check(await destroy.isDisabled(), 'destroy is enabled with a wrong confirmation');
    await page.getByLabel(`Type ${DOMAIN} to confirm`).fill(DOMAIN);
    check(!(await destroy.isDisabled()), 'destroy stays disabled with the right confirmation');
    await shot(page, 'destroy-confirm');
    // by keyboard: Tab from the confirmation reaches the button, Enter destroys
    await page.keyboard.press('Tab');
    check(await destroy.evaluate((b) => b === document.activeElement), `Tab from the confirmation goes to ${await focusedTag(page)}, not the destroy button`);
    await page.keyboard.press('Enter');
    await heading(page, 'Jails');
    await page.waitForFunction((d) => !document.querySelector(`tr[data-domain="${d}"]`) &&
      document.querySelector('.updated')?.textContent, DOMAIN, { timeout: 20000 });
    const status = await page.evaluate(async (d) => (await fetch(`/api/v1/jails/${d}`, {
      headers: { Authorization: `Bearer ${sessionStorage.getItem('jailctl-token')}` } })).status, DOMAIN);
    check(status === 404, `GET /api/v1/jails/${DOMAIN} after destroy: ${status}, expected 404`);

    if (env.REVOKE_ADMIN) {
      info('the admin token is revoked on the host: the next refresh shows the token prompt with a message');
      execFileSync('bash', ['-c', env.REVOKE_ADMIN], { stdio: 'inherit', timeout: 30000 });
      await page.locator('.notice', { hasText: 'refused' }).waitFor({ timeout: 15000 });
      await heading(page, 'Sign in');
      check(await page.evaluate(() => sessionStorage.getItem('jailctl-token') === null), 'the refused token is still kept');
      await shot(page, 'token-refused');
    }

    check(problems.length === 0, `errors in the page:\n${problems.join('\n')}`);
    info(`console: OK in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } catch (e) {
    for (const context of browser.contexts()) {
      for (const p of context.pages()) {
        const file = path.join(env.SANDBOX_DIR || '/tmp', `failure-${context === browser.contexts()[0] ? 'admin' : 'viewer'}.png`);
        await p.screenshot({ path: file, fullPage: true }).catch(() => {});
        console.error(`(page at failure: ${p.url()}, screenshot ${file})`);
        console.error(await p.locator('main').innerText().catch(() => ''));
      }
    }
    if (problems.length) console.error(`errors in the page:\n${problems.join('\n')}`);
    throw e;
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error(`FAIL: ${e.message}`);
  process.exit(1);
});
