// The log viewer: a jail's log files (one per task), newest first, and one file's text.
import { getJson, getText, seg, ApiError } from './api.js';
import { h, fill, focus, formatBytes, timeOf } from './dom.js';

export async function logsView(view, domain) {
  const heading = h('h1', {}, `Logs of ${domain}`);
  const problem = h('p', { class: 'form-error', role: 'alert' });
  const list = h('div');
  fill(view.main,
    h('p', { class: 'back' }, h('a', { href: `#/jail/${seg(domain)}` }, domain)),
    heading, problem, list);
  focus(heading);
  try {
    const { logs } = await getJson(`/jails/${seg(domain)}/logs`);
    if (logs.length === 0) {
      fill(list, h('p', {}, 'No log files.'));
      return;
    }
    logs.sort((a, b) => String(b.modified).localeCompare(String(a.modified)) || b.name.localeCompare(a.name));
    fill(list, h('table', { class: 'logs' },
      h('caption', { class: 'visually-hidden' }, `Log files of ${domain}, newest first`),
      h('thead', {}, h('tr', {}, ['File', 'Size', 'Modified'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, logs.map((log) => h('tr', {},
        h('th', { scope: 'row', 'data-label': 'File' },
          h('a', { href: `#/jail/${seg(domain)}/logs/${seg(log.name)}` }, log.name)),
        h('td', { 'data-label': 'Size' }, formatBytes(log.size)),
        h('td', { 'data-label': 'Modified' }, timeOf(log.modified, { withDate: true })))))));
  } catch (e) {
    if (e instanceof ApiError && e.status !== 401) problem.textContent = `Cannot list the logs: ${e.message}`;
  }
}

export async function logView(view, domain, name) {
  const heading = h('h1', {}, name);
  const problem = h('p', { class: 'form-error', role: 'alert' });
  const text = h('pre', { class: 'log', tabindex: 0, 'aria-label': `Content of ${name}` });
  fill(view.main,
    h('p', { class: 'back' }, h('a', { href: `#/jail/${seg(domain)}/logs` }, `Logs of ${domain}`)),
    heading, problem, text);
  focus(heading);
  try {
    text.textContent = await getText(`/jails/${seg(domain)}/logs/${seg(name)}`);
  } catch (e) {
    if (e instanceof ApiError && e.status !== 401) problem.textContent = `Cannot read ${name}: ${e.message}`;
  }
}
