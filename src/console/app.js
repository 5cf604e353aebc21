// jailctl's web console: asks for an API token once per tab, then routes #/... to a view.
//   #/                       the jails          #/create               the create form
//   #/jail/DOMAIN            one jail, actions  #/jail/DOMAIN/logs[/F] its logs, one log
import { getToken, setToken, clearToken, getJson, onUnauthorized, ApiError } from './api.js';
import { h, fill, focus, announce } from './dom.js';
import { listView, jailView } from './jails.js';
import { createView } from './create.js';
import { logsView, logView } from './logs.js';

const main = document.getElementById('main');
let session = null;           // {name, role} from GET /api/v1/whoami
let loginMessage = '';        // why the token prompt is shown again
let leaving = [];             // cleanups of the current view (timers)

onUnauthorized((error) => {
  session = null;
  loginMessage = `Your token was refused (${error.message}). Enter a valid token.`;
  route();
});

function header() {
  const signedIn = session !== null;
  document.getElementById('nav').hidden = !signedIn;
  document.getElementById('who').hidden = !signedIn;
  document.getElementById('nav-create').hidden = !signedIn || session.role === 'viewer';
  if (signedIn) document.getElementById('who-name').textContent = `${session.name} (${session.role})`;
  const here = location.hash.startsWith('#/create') ? '#/create' : '#/';
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.getAttribute('href') === here) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function loginView() {
  const heading = h('h1', {}, 'Sign in');
  const input = h('input', { id: 'token', name: 'token', type: 'password', required: true,
    autocomplete: 'off', 'aria-describedby': 'token-hint token-error' });
  const error = h('p', { class: 'field-error', id: 'token-error' });
  const form = h('form', { class: 'login' },
    h('div', { class: 'field' },
      h('label', { for: 'token' }, 'API token'),
      h('p', { class: 'hint', id: 'token-hint' },
        'Made on the host with ', h('code', {}, 'jailctl token add NAME --role viewer|operator|admin'),
        '. It is kept in this tab only.'),
      input, error),
    h('button', { type: 'submit' }, 'Sign in'));
  const message = loginMessage ? h('p', { class: 'notice', role: 'alert' }, loginMessage) : null;
  fill(main, heading, message, form);
  focus(message ? heading : input);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const token = input.value.trim();
    error.textContent = '';
    input.removeAttribute('aria-invalid');
    if (!token) {
      error.textContent = 'Paste your token';
      input.setAttribute('aria-invalid', 'true');
      input.focus();
      return;
    }
    setToken(token);
    loginMessage = '';
    try {
      session = await getJson('/whoami');
      announce(`Signed in as ${session.name}, ${session.role}`);
      route();
    } catch (e) {
      if (!(e instanceof ApiError) || e.status === 401) return;  // onUnauthorized showed it
      clearToken();
      error.textContent = e.message;
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    }
  });
}

function makeView() {
  return {
    main,
    role: session.role,
    onLeave: (f) => leaving.push(f),
    navigate: (hash, message) => {
      if (message) announce(message);
      if (location.hash === hash) route(); else location.hash = hash;
    },
    reload: () => route(),
  };
}

async function route() {
  for (const f of leaving.splice(0)) f();
  if (!getToken()) session = null;
  header();
  if (!getToken()) {
    loginView();
    return;
  }
  if (!session) {
    try {
      session = await getJson('/whoami');
    } catch (e) {
      if (e instanceof ApiError && e.status !== 401) {
        fill(main, h('h1', {}, 'jailctl serve is not answering'), h('p', { role: 'alert' }, e.message),
          h('button', { type: 'button', onclick: route }, 'Try again'));
      }
      return;
    }
    header();
  }
  const parts = (location.hash.startsWith('#/') ? location.hash.slice(2) : '')
    .split('/').filter(Boolean).map(decodeURIComponent);
  const view = makeView();
  if (parts.length === 0) listView(view);
  else if (parts[0] === 'create' && parts.length === 1) createView(view);
  else if (parts[0] === 'jail' && parts.length === 2) jailView(view, parts[1]);
  else if (parts[0] === 'jail' && parts[2] === 'logs' && parts.length === 3) logsView(view, parts[1]);
  else if (parts[0] === 'jail' && parts[2] === 'logs' && parts.length === 4) logView(view, parts[1], parts[3]);
  else {
    const heading = h('h1', {}, 'No such page');
    fill(main, heading, h('p', {}, h('a', { href: '#/' }, 'Back to the jails')));
    focus(heading);
  }
}

document.getElementById('signout').addEventListener('click', () => {
  clearToken();
  session = null;
  loginMessage = 'Signed out.';
  route();
});
// the skip link moves the focus without touching the route in the hash
document.getElementById('skip').addEventListener('click', (event) => {
  event.preventDefault();
  focus(main.querySelector('h1') ?? main);
});
window.addEventListener('hashchange', route);
route();
