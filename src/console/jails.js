// The jail list (live state, disk and memory use) and one jail's page with its actions.
import { getJson, send, seg, ApiError } from './api.js';
import { h, fill, focus, formatBytes, timeOf, field, clearErrors, showError } from './dom.js';
import { showTask } from './task.js';

export const REFRESH_MS = 5000;

// What a role may do (the API enforces it; the console only hides what would be refused).
export function can(role, action) {
  if (role === 'admin') return true;
  if (role === 'operator') return !['create', 'destroy'].includes(action);
  return false;
}

// running / stopped / repair (the text listing's `*`, ` `, `!`)
function stateOf(jail) {
  if (jail.reason || (jail.state !== 'running' && jail.state !== 'stopped')) return 'repair';
  return jail.state;
}

function stateBadge(jail) {
  const s = stateOf(jail);
  if (s === 'repair') {
    return h('span', { class: 'state repair' },
      h('span', { 'aria-hidden': 'true' }, '! '), 'needs repair',
      jail.reason ? h('span', { class: 'reason' }, `: ${jail.reason}`) : null);
  }
  return h('span', { class: `state ${s}` }, h('span', { 'aria-hidden': 'true' }, s === 'running' ? '* ' : '  '), s);
}

function usage(used, total) {
  const text = total ? `${formatBytes(used)} of ${formatBytes(total)}` : `${formatBytes(used)} (no limit)`;
  return h('span', { class: 'usage' },
    total ? h('meter', { min: 0, max: total, value: Math.min(used ?? 0, total), 'aria-hidden': 'true' }) : null,
    h('span', {}, text));
}

const memoryUse = (jail) => usage(jail.usage?.memory_bytes ?? 0, jail.limits?.memory_bytes || 0);

// Calls load() now and every REFRESH_MS until the view goes away (view.onLeave).
function everyFewSeconds(view, load) {
  let timer = null;
  let stopped = false;
  const tick = async () => {
    await load();
    if (!stopped) timer = setTimeout(tick, REFRESH_MS);
  };
  view.onLeave(() => { stopped = true; clearTimeout(timer); });
  tick();
  return () => { clearTimeout(timer); if (!stopped) tick(); };  // "refresh now"
}

// ---------------------------------------------------------------- the list
export function listView(view) {
  const updated = h('p', { class: 'updated', 'aria-live': 'off' });
  const problem = h('p', { class: 'form-error', role: 'alert' });
  const body = h('tbody');
  const empty = h('p', { class: 'empty', hidden: true }, 'No jails yet.');
  const table = h('table', { class: 'jails' },
    h('caption', { class: 'visually-hidden' }, 'Jails, their state, address, disk and memory use'),
    h('thead', {}, h('tr', {},
      ['State', 'Domain', 'IP', 'Disk', 'Memory'].map((t) => h('th', { scope: 'col' }, t)))),
    body);
  const heading = h('h1', {}, 'Jails');
  let refresh = null;
  fill(view.main,
    heading,
    h('div', { class: 'toolbar' },
      can(view.role, 'create') ? h('a', { class: 'button', href: '#/create' }, 'Create a jail') : null,
      h('button', { type: 'button', onclick: () => refresh() }, 'Refresh'),
      updated),
    problem, table, empty);
  focus(heading);

  refresh = everyFewSeconds(view, async () => {
    try {
      const { jails } = await getJson('/jails');
      const focused = document.activeElement?.dataset?.domain;
      fill(body, ...jails.map(jailRow));
      if (focused) body.querySelector(`a[data-domain="${CSS.escape(focused)}"]`)?.focus();
      empty.hidden = jails.length > 0;
      table.hidden = jails.length === 0;
      problem.textContent = '';
      fill(updated, 'Updated ', timeOf(new Date().toISOString()));
    } catch (e) {
      if (e instanceof ApiError && e.status !== 401) problem.textContent = `Cannot list the jails: ${e.message}`;
    }
  });
}

function jailRow(jail) {
  return h('tr', { 'data-domain': jail.domain, 'data-state': stateOf(jail) },
    h('td', { 'data-label': 'State' }, stateBadge(jail)),
    h('th', { scope: 'row', 'data-label': 'Domain' },
      h('a', { href: `#/jail/${seg(jail.domain)}`, 'data-domain': jail.domain }, jail.domain)),
    h('td', { 'data-label': 'IP' }, jail.ip),
    h('td', { 'data-label': 'Disk' }, usage(jail.used_bytes, jail.size_bytes)),
    h('td', { 'data-label': 'Memory' }, memoryUse(jail)));
}

// ---------------------------------------------------------------- one jail
const ACTIONS = [
  ['start', 'Start'], ['stop', 'Stop'], ['restart', 'Restart'], ['test', 'Test'],
  ['passwd', 'New FTP password'], ['backup', 'Back up'],
];

export function jailView(view, domain) {
  const heading = h('h1', {}, domain);
  const facts = h('dl', { class: 'facts' });
  const problem = h('p', { class: 'form-error', role: 'alert' });
  const taskArea = h('div', { class: 'task-area' });
  let jail = null;
  let busy = false;

  const buttons = new Map();
  const allowed = ACTIONS.filter(([action]) => can(view.role, action));
  const setBusy = (value) => {
    busy = value;
    for (const el of view.main.querySelectorAll('.actions button, .actions input')) el.disabled = value;
    if (!value) updateButtons();
  };
  const updateButtons = () => {
    if (!jail || busy) return;
    const state = stateOf(jail);
    for (const [action, button] of buttons) {
      button.disabled = (action === 'start' && state === 'running') || (action === 'stop' && state === 'stopped');
    }
    if (destroyForm) destroyForm.querySelector('.running-note').hidden = jail.state !== 'running';
  };

  // runs one action's task below the buttons, then refreshes the facts
  const run = async (label, method, path, body, form) => {
    if (busy) return null;
    if (form) clearErrors(form);
    problem.textContent = '';
    setBusy(true);
    try {
      const { task } = await send(method, path, body);
      const done = await showTask(taskArea, task, { title: `${label}: ${domain}`, domain });
      return done;
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      if (e.status === 401) return null;  // the token prompt is shown
      if (form) showError(form, e);
      else {
        problem.textContent = (e.status === 403 ? 'Not allowed for your role: ' : '') + e.message;
        focus(problem);
      }
      return null;
    } finally {
      setBusy(false);
      refresh();
    }
  };

  const actionsSection = allowed.length === 0 ? null : h('section', { class: 'actions', 'aria-labelledby': 'actions-h' },
    h('h2', { id: 'actions-h' }, 'Actions'),
    h('div', { class: 'action-buttons' }, allowed.map(([action, label]) => {
      const button = h('button', { type: 'button', 'data-action': action,
        onclick: () => run(label, 'POST', `/jails/${seg(domain)}/${action}`, {}) }, label);
      buttons.set(action, button);
      return button;
    })),
    can(view.role, 'grow') ? growForm() : null,
    can(view.role, 'destroy') ? makeDestroyForm() : null);
  const destroyForm = actionsSection?.querySelector('form.destroy') ?? null;

  function growForm() {
    const form = h('form', { class: 'grow', novalidate: true },
      field({ name: 'size', label: 'New disk size', hint: 'Larger than now, e.g. 2G or 1536M' }),
      h('p', { class: 'form-error', role: 'alert' }),
      h('button', { type: 'submit', 'data-action': 'grow' }, 'Grow the disk'));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const size = form.elements.size.value.trim();
      clearErrors(form);
      if (!size) {
        showError(form, { field: 'size', message: 'Give the new size, e.g. 2G' });
        return;
      }
      const done = await run('Grow', 'POST', `/jails/${seg(domain)}/grow`, { size }, form);
      if (done?.state === 'ok') form.reset();
    });
    return form;
  }

  function makeDestroyForm() {
    const form = h('form', { class: 'destroy', novalidate: true },
      h('h3', {}, 'Destroy'),
      h('p', {}, 'Removes the jail, its disk, site and FTP account for good (its logs stay). ',
        h('span', { class: 'running-note', hidden: true }, 'It is running: it will be stopped first.')),
      field({ name: 'confirm', label: `Type ${domain} to confirm` }),
      h('p', { class: 'form-error', role: 'alert' }),
      h('button', { type: 'submit', class: 'danger', 'data-action': 'destroy', disabled: true }, `Destroy ${domain}`));
    const input = form.elements.confirm;
    const submit = form.querySelector('button[type=submit]');
    input.addEventListener('input', () => { submit.disabled = busy || input.value.trim() !== domain; });
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (input.value.trim() !== domain) {
        showError(form, { field: 'confirm', message: `Type the domain exactly: ${domain}` });
        return;
      }
      const done = await run('Destroy', 'DELETE', `/jails/${seg(domain)}?force=true`, undefined, form);
      if (done?.state === 'ok') {
        view.navigate('#/', `${domain} was destroyed`);
      } else {
        submit.disabled = input.value.trim() !== domain;
      }
    });
    return form;
  }

  fill(view.main,
    h('p', { class: 'back' }, h('a', { href: '#/' }, 'All jails')),
    heading, problem, facts,
    h('p', {}, h('a', { href: `#/jail/${seg(domain)}/logs` }, 'Logs')),
    actionsSection, taskArea);
  focus(heading);

  const refresh = everyFewSeconds(view, async () => {
    try {
      jail = await getJson(`/jails/${seg(domain)}`);
      fill(facts, ...jailFacts(jail));
      facts.dataset.state = stateOf(jail);
      updateButtons();
    } catch (e) {
      if (!(e instanceof ApiError) || e.status === 401) return;
      if (e.status === 404 && !busy) {
        fill(facts);
        problem.textContent = `There is no jail ${domain} (any more).`;
        if (actionsSection) actionsSection.hidden = true;
      } else if (e.status !== 404) {
        problem.textContent = `Cannot read ${domain}: ${e.message}`;
      }
    }
  });
}

function jailFacts(jail) {
  const row = (term, ...value) => [h('dt', {}, term), h('dd', {}, ...value)];
  const limits = jail.limits ?? {};
  return [
    row('State', stateBadge(jail)),
    row('IP', jail.ip),
    row('Disk', usage(jail.used_bytes, jail.size_bytes)),
    row('Memory', memoryUse(jail)),
    row('CPUs', limits.cpus ? String(limits.cpus) : 'no limit'),
    row('Processes', `${jail.usage?.pids ?? 0}${limits.pids ? ` of ${limits.pids}` : ''}`),
    row('FTP user', jail.ftp_user ?? '–'),
    row('Created', timeOf(jail.created, { withDate: true }) ?? '–'),
    jail.services?.length ? row('Services', jail.services.map(serviceText).join(', ')) : null,
  ].flat().filter(Boolean);
}

// "nginx running", "vsftpd backoff (3 restarts)"
function serviceText(s) {
  if (typeof s !== 'object' || s === null) return String(s);
  return `${s.name} ${s.state}${s.restarts ? ` (${s.restarts} restarts)` : ''}`;
}
