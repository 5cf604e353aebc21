// Small DOM helpers. Everything from the API enters the page as text (append/textContent),
// never as HTML, so a jail's name or a log line cannot inject markup.

// h('p', {class: 'x', onclick: f}, 'text', child, [more]) -> element
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  el.append(...nodes(children));
  return el;
}

// Replaces el's children (null, undefined and false are left out, arrays flattened: the DOM's
// own replaceChildren would print them as "null").
export function fill(el, ...children) {
  el.replaceChildren(...nodes(children));
  return el;
}

function nodes(children) {
  return children.flat(Infinity)
    .filter((c) => c !== null && c !== undefined && c !== false)
    .map((c) => (c instanceof Node ? c : String(c)));
}

// Moves the keyboard and screen-reader focus to el (a heading, a result), without scrolling
// it out of view.
export function focus(el) {
  if (!el) return;
  if (!el.hasAttribute('tabindex')) el.setAttribute('tabindex', '-1');
  el.focus({ preventScroll: false });
}

// Says text through the page's polite live region.
export function announce(text) {
  const region = document.getElementById('announce');
  if (!region) return;
  region.textContent = '';
  // a new text node in a later task, so that the same message twice is read twice
  setTimeout(() => { region.textContent = text; }, 50);
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
export function formatBytes(n) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '–';
  let i = 0;
  while (n >= 1024 && i < UNITS.length - 1) {
    n /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${n.toFixed(n < 10 ? 1 : 0)} ${UNITS[i]}`;
}

// "04:31:02.123 UTC" (UTC, like the CLI's logs), or with the date "2026-12-03 04:31 UTC",
// inside a <time> carrying the full timestamp.
export function timeOf(rfc3339, { withDate = false } = {}) {
  if (!rfc3339) return null;
  const date = new Date(rfc3339);
  if (Number.isNaN(date.getTime())) return h('time', {}, rfc3339);
  const iso = date.toISOString();
  const text = withDate ? `${iso.slice(0, 10)} ${iso.slice(11, 16)}` : iso.slice(11, 23);
  return h('time', { datetime: rfc3339, title: rfc3339 }, `${text} UTC`);
}

// Copies text to the clipboard; falls back to selecting it for the user.
export async function copyText(text, selectable) {
  try {
    await navigator.clipboard.writeText(text);
    announce('Copied');
    return true;
  } catch {
    if (selectable) {
      const range = document.createRange();
      range.selectNodeContents(selectable);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
    }
    announce('Copy was refused by the browser; the text is selected, press Ctrl+C');
    return false;
  }
}

// A labelled input with its hint and its error slot (the API's error.field lands here).
export function field({ name, label, hint, type = 'text', value, attrs = {} }) {
  const id = `f-${name}`;
  const input = h('input', {
    id, name, type, value,
    'aria-describedby': `${id}-hint ${id}-error`,
    autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false',
    ...attrs,
  });
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null,
    input,
    h('p', { class: 'field-error', id: `${id}-error`, 'data-field': name }));
}

// Shows an error next to the input named `name` in form; false when there is no such field.
export function showFieldError(form, name, message) {
  const input = name ? form.querySelector(`input[name="${CSS.escape(name)}"]`) : null;
  if (!input) return false;
  input.setAttribute('aria-invalid', 'true');
  const slot = form.querySelector(`#${CSS.escape(input.id)}-error`);
  if (slot) slot.textContent = message;
  input.focus();
  return true;
}

export function clearErrors(form) {
  for (const input of form.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
  for (const slot of form.querySelectorAll('.field-error, .form-error')) slot.textContent = '';
}

// Shows an ApiError: next to its field when the form has it, else in the form's error line.
export function showError(form, error) {
  if (showFieldError(form, error.field, error.message)) return;
  const line = form.querySelector('.form-error');
  const prefix = error.status === 403 ? 'Not allowed for your role: ' : '';
  if (line) {
    line.textContent = prefix + error.message;
    focus(line);
  }
}
