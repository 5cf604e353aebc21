// The create form: domain, IPv4 address, disk size; then the task's steps live, then the FTP
// credentials (OK) or the failed step (KO).
import { send, seg, ApiError } from './api.js';
import { h, fill, focus, field, clearErrors, showError } from './dom.js';
import { showTask } from './task.js';
import { can } from './jails.js';

const FIELDS = [
  { name: 'domain', label: 'Domain', hint: 'The site’s name, e.g. example.com (www. is served too)',
    attrs: { inputmode: 'url', required: true } },
  { name: 'ip', label: 'IPv4 address', hint: 'A free address routed to this host, e.g. 203.0.113.10',
    attrs: { inputmode: 'decimal', required: true } },
  { name: 'size', label: 'Disk size', hint: 'e.g. 512M, 2G (it can grow later)',
    attrs: { required: true } },
];

export function createView(view) {
  const heading = h('h1', {}, 'Create a jail');
  if (!can(view.role, 'create')) {
    fill(view.main, heading,
      h('p', {}, `Your role (${view.role}) may not create jails; an admin token can.`));
    focus(heading);
    return;
  }
  const submit = h('button', { type: 'submit' }, 'Create');
  const form = h('form', { class: 'create', novalidate: true, 'aria-labelledby': 'create-h' },
    FIELDS.map(field),
    h('p', { class: 'form-error', role: 'alert' }),
    submit);
  heading.id = 'create-h';
  const taskArea = h('div', { class: 'task-area' });
  fill(view.main, heading, form, taskArea);
  focus(heading);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const body = {};
    for (const { name, label } of FIELDS) {
      body[name] = form.elements[name].value.trim();
      if (!body[name]) {
        showError(form, { field: name, message: `${label} is required` });
        return;
      }
    }
    const inputs = [...form.elements];
    inputs.forEach((el) => { el.disabled = true; });
    let done = null;
    try {
      const { task } = await send('POST', '/jails', body);
      done = await showTask(taskArea, task, { title: `Creating ${body.domain}`, domain: body.domain });
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      if (e.status === 401) return;  // the token prompt is shown
      inputs.forEach((el) => { el.disabled = false; });
      showError(form, e);
      return;
    }
    const next = h('p', { class: 'next' });
    if (done.state === 'ok') next.append(h('a', { href: `#/jail/${seg(body.domain)}` }, `Open ${body.domain}`), ' · ');
    next.append(h('button', { type: 'button', onclick: () => view.reload() }, 'Create another jail'));
    taskArea.append(next);
    if (done.state !== 'ok') {
      // the form stays filled in, to correct and retry
      inputs.forEach((el) => { el.disabled = false; });
    }
  });
}
