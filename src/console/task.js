// A running task (create, stop, passwd...) shown live: each step appears as its Server-Sent
// Event arrives, with its start time and duration; then OK with the result (the FTP
// credentials, shown this once) or KO with the failed step, its message and the task's log.
import { followTask, getJson, seg, ApiError } from './api.js';
import { h, fill, focus, announce, timeOf, copyText } from './dom.js';

const STATUS_TEXT = {
  running: 'running', ok: 'ok', failed: 'FAILED', undone: 'undone',
  'undo-failed': 'UNDO FAILED', 'not-run': 'not run',
};

let sections = 0;

// Renders task `id` into container and resolves with the final task object (state ok/ko).
export async function showTask(container, id, { title, domain }) {
  const n = ++sections;
  const steps = h('ol', { class: 'steps', 'aria-label': 'Steps' });
  const state = h('p', { class: 'task-state', 'data-state': 'running' }, 'Running…');
  const result = h('div', { class: 'task-result' });
  const heading = h('h2', { id: `task-${n}` }, title);
  const section = h('section', { class: 'task', 'aria-labelledby': `task-${n}`, 'data-task': id },
    heading, state, steps, result);
  fill(container, section);
  focus(heading);
  announce(`${title}: started`);

  const rows = new Map();
  const onStep = (step, quiet = false) => {
    let row = rows.get(step.name);
    if (!row) {
      row = h('li', { class: 'step', 'data-step': step.name, 'data-received': Date.now() });
      rows.set(step.name, row);
      steps.append(row);
    }
    row.dataset.status = step.status;
    fill(row,
      h('span', { class: 'step-name' }, step.name),
      h('span', { class: 'step-status' }, STATUS_TEXT[step.status] ?? step.status),
      timeOf(step.start),
      step.status !== 'running' && typeof step.ms === 'number'
        ? h('span', { class: 'step-ms' }, `${Math.round(step.ms)} ms`) : null);
    if (!quiet) announce(`${step.name}: ${STATUS_TEXT[step.status] ?? step.status}`);
  };

  let task = null;
  try {
    await followTask(id, (name, data) => {
      if (name === 'step') onStep(data);
      else if (name === 'done') task = data;
    });
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) throw e;
    // the stream broke: the task goes on in serve; poll it instead
  }
  while (!task || task.state === 'running') {
    if (task) await new Promise((resolve) => setTimeout(resolve, 1000));
    try {
      task = await getJson(`/tasks/${seg(id)}`);
    } catch (e) {
      if (e instanceof ApiError && (e.status === 401 || e.status === 404)) {
        state.textContent = `Cannot follow the task: ${e.message}`;
        throw e;
      }
      task = { state: 'running' };
    }
  }
  for (const step of task.steps ?? []) onStep(step, true);

  state.dataset.state = task.state;
  state.textContent = task.state === 'ok' ? 'Finished' : 'Failed';
  fill(result, ...(task.state === 'ok' ? okResult(task, domain) : koResult(task, domain)));
  const outcome = result.querySelector('h3');
  focus(outcome);
  announce(`${title}: ${task.state === 'ok' ? 'OK' : 'KO'}`);
  return task;
}

// The verb's --json output: {"result": "OK", <the verb's fields>, "log", "steps"}.
function okResult(task, domain) {
  const out = [h('h3', { class: 'ok' }, 'OK')];
  const r = task.result ?? {};
  if (r.ftp && r.ftp.password) out.push(credentials(r.ftp));
  const facts = Object.entries(r).filter(([k, v]) =>
    !['result', 'ok', 'ftp', 'steps', 'domain', 'log', 'error'].includes(k) && v !== null && typeof v !== 'object');
  if (facts.length) {
    out.push(h('dl', { class: 'facts' }, facts.map(([k, v]) => [h('dt', {}, k.replace(/_/g, ' ')), h('dd', {}, String(v))])));
  }
  const log = logLink(task, domain);
  if (log) out.push(log);
  return out;
}

// A link to the task's log in the log viewer (the log path's file name under the jail).
function logLink(task, domain) {
  const path = task.log ?? task.result?.log ?? null;
  if (!path) return null;
  const name = path.split('/').pop();
  const jail = domain ?? task.domain;
  if (!jail) return h('p', {}, 'Log: ', h('code', {}, path));
  return h('p', { class: 'log-link' }, h('a', { href: `#/jail/${seg(jail)}/logs/${seg(name)}` }, `Read the log ${name}`));
}

function credentials(ftp) {
  const row = (label, value, key) => {
    const code = h('code', { 'data-credential': key }, value);
    return [h('dt', {}, label),
      h('dd', {}, code, ' ',
        h('button', { type: 'button', class: 'copy', onclick: () => copyText(value, code) }, `Copy ${label.toLowerCase()}`))];
  };
  return h('div', { class: 'secret', role: 'group', 'aria-labelledby': 'secret-h' },
    h('h4', { id: 'secret-h' }, 'FTP access'),
    h('p', { class: 'warn' },
      'Shown only this once: copy the password now. ',
      'If it is lost, the jail’s “New FTP password” action makes another.'),
    h('dl', {},
      row('User', ftp.user, 'user'),
      row('Password', ftp.password, 'password'),
      ftp.tls ? [h('dt', {}, 'TLS'), h('dd', {}, ftp.tls)] : null,
      ftp.fingerprint ? row('Fingerprint', ftp.fingerprint, 'fingerprint') : null));
}

function koResult(task, domain) {
  const error = task.error ?? {};
  const out = [h('h3', { class: 'ko' }, 'KO'),
    h('p', { class: 'ko-cause' },
      error.step ? ['Step ', h('code', {}, error.step), ' failed: '] : 'Failed: ',
      error.message ?? 'no cause given')];
  const log = logLink(task, domain);
  if (log) out.push(log);
  return out;
}
