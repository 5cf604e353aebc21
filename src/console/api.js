// The console's only door to jailctl serve: the REST API under /api/v1, with the token the
// user typed (kept in sessionStorage, so it dies with the tab) in the Authorization header.

const TOKEN_KEY = 'jailctl-token';

export const getToken = () => sessionStorage.getItem(TOKEN_KEY);
export const setToken = (token) => sessionStorage.setItem(TOKEN_KEY, token);
export const clearToken = () => sessionStorage.removeItem(TOKEN_KEY);

// An API refusal: status (0 when serve could not be reached), message, and the input field it
// names (error.field), if any.
export class ApiError extends Error {
  constructor(status, message, field = null) {
    super(message);
    this.status = status;
    this.field = field;
  }
}

// Called once per 401, after the token has been forgotten (app.js shows the token prompt).
let unauthorized = () => {};
export function onUnauthorized(handler) {
  unauthorized = handler;
}

async function errorOf(response) {
  let message = `${response.status} ${response.statusText}`.trim();
  let field = null;
  try {
    const body = await response.json();
    if (body && body.error) {
      message = body.error.message || message;
      field = body.error.field ?? null;
    }
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(response.status, message, field);
}

async function request(method, path, { body, signal, accept = 'application/json' } = {}) {
  const headers = { Authorization: `Bearer ${getToken() ?? ''}`, Accept: accept };
  const init = { method, headers, signal, cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(`/api/v1${path}`, init);
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, `jailctl serve cannot be reached (${e.message}); is it running?`);
  }
  if (response.status === 401) {
    const error = await errorOf(response);
    clearToken();
    unauthorized(error);
    throw error;
  }
  if (!response.ok) throw await errorOf(response);
  return response;
}

export async function getJson(path, options) {
  return (await request('GET', path, options)).json();
}

export async function getText(path, options) {
  return (await request('GET', path, { ...options, accept: 'text/plain' })).text();
}

// POST or DELETE; resolves to the JSON body (a 202's {"task": id}).
export async function send(method, path, body) {
  const response = await request(method, path, { body });
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

// One URL path segment (a domain, a task id, a log file name).
export const seg = (s) => encodeURIComponent(s);

// Follows a task's Server-Sent Events through fetch() (so that the token travels in the
// header, which EventSource cannot do): onEvent(name, data) for each event, data parsed as
// JSON. Resolves when the stream ends.
export async function followTask(id, onEvent, signal) {
  const response = await request('GET', `/tasks/${seg(id)}/events`, { signal, accept: 'text/event-stream' });
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value.replace(/\r/g, '');
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      dispatchEvent(buffer.slice(0, end), onEvent);
      buffer = buffer.slice(end + 2);
    }
  }
  if (buffer.trim()) dispatchEvent(buffer, onEvent);
}

function dispatchEvent(block, onEvent) {
  let name = 'message';
  const data = [];
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;  // a comment (keep-alive)
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') name = value;
    else if (field === 'data') data.push(value);
  }
  if (data.length === 0) return;
  const text = data.join('\n');
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = text;
  }
  onEvent(name, parsed);
}
