// What the workspace's sections share for forms and tables: a message next to the field it is
// about (aria-invalid and aria-describedby kept in step), a refusal from the API placed on the
// fields its problem+json names, and tables that read as one block per row on a phone.

import { ApiError, errorMessage } from './api.js';
import { clear, h } from './dom.js';
import { onLangChange, t } from './i18n.js';

// An account's name as the gateway accepts it (gateway/accounts/schemas.py, USERNAME_PATTERN).
export const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$/;

// What each message bar says now: its text, or the function that makes it (see sayer).
const said = new Map();

function fieldErrorId(input) {
  return `${input.id}-error`;
}

export function setFieldError(input, message) {
  let error = document.getElementById(fieldErrorId(input));
  if (!error) {
    error = h('p', { id: fieldErrorId(input), class: 'field-error' });
    (input.closest('.field, fieldset') || input.parentElement).append(error);
  }
  error.textContent = message ? `⚠ ${message}` : '';
  error.hidden = !message;
  const described = new Set((input.getAttribute('aria-describedby') || '').split(' ').filter(Boolean));
  if (message) {
    input.setAttribute('aria-invalid', 'true');
    described.add(error.id);
  } else {
    input.removeAttribute('aria-invalid');
    described.delete(error.id);
  }
  if (described.size) input.setAttribute('aria-describedby', [...described].join(' '));
  else input.removeAttribute('aria-describedby');
}

export function clearFieldErrors(form) {
  for (const input of form.querySelectorAll('[data-field]')) setFieldError(input, '');
}

// The element of `form` a problem's field names: `body.criteria.1.weight`, or the nearest
// enclosing name the form knows (`body.stalls.2` -> the stalls fieldset).
function fieldElement(form, field) {
  const parts = String(field || '').split('.');
  while (parts.length > 1) {
    const el = form.querySelector(`[data-field="${CSS.escape(parts.join('.'))}"]`);
    if (el) return el;
    parts.pop();
  }
  return null;
}

// A refusal is said once, next to the form: field errors beside their fields (each input marked
// aria-invalid and described by its error, so the first one, focused, is read out with it), the
// rest in the form's own message, focused when no field took the focus. The section's message bar
// (`say`) is for the outcomes of actions: it keeps no earlier outcome beside a refusal.
export function showProblem(form, error, messageEl, say) {
  const problem = error instanceof ApiError ? error.problem || {} : {};
  const errors = Array.isArray(problem.errors) ? problem.errors : [];
  let first = null;
  const unplaced = [];
  for (const e of errors) {
    const el = fieldElement(form, e.field);
    if (el) {
      setFieldError(el, e.message || problem.detail || '');
      first = first || el;
    } else unplaced.push(e);
  }
  messageEl.textContent = first && !unplaced.length ? t('form.fix_fields') : errorMessage(error, first ? unplaced : errors);
  say(null, '');
  if (first) first.focus();
  else messageEl.focus();
}

// The form's own checks failed: each message next to its field, the first field focused, and the
// form's message saying so (said once: not repeated in the section's message bar).
export function showInvalid(problems, messageEl, say) {
  for (const [el, text] of problems) setFieldError(el, text);
  messageEl.textContent = t('form.fix_fields');
  say(null, '');
  problems[0][0].focus();
}

// A table that turns into one block per row on a phone: each cell carries its column's heading
// (data-label, shown before the value by workspace.css).
export function stacked(table) {
  table.classList.add('stack-table');
  const heads = [...table.querySelectorAll('thead th')].map((th) => th.textContent);
  for (const row of table.querySelectorAll('tbody tr')) {
    [...row.children].forEach((cell, i) => {
      if (heads[i] && !cell.hasAttribute('colspan')) cell.dataset.label = heads[i];
    });
  }
  return table;
}

// The section's message bar around `el`: the .workspace-message of the nearest enclosing element
// that holds one as its own child; null outside a workspace section.
function sectionBar(el) {
  for (let at = el.parentElement; at; at = at.parentElement) {
    const bar = at.querySelector(':scope > .workspace-message');
    if (bar) return bar;
  }
  return null;
}

// A form is being sent: the page stays, and the messages of the last attempt go, the section's
// message bar included (an outcome of an earlier action is not left beside this one's).
export function startSubmit(event, form, messageEl) {
  event.preventDefault();
  clearFieldErrors(form);
  messageEl.textContent = '';
  const bar = sectionBar(form);
  if (bar) {
    bar.textContent = '';
    delete bar.dataset.kind;
    said.delete(bar);
  }
}

// A table row's small button that keeps the keyboard's place when the table is drawn again
// (`key` is its data-focus-key and data-testid; `label` names what it acts on).
export function rowButton(key, text, label, onclick) {
  return h('button', { type: 'button', class: 'btn btn-small', 'data-focus-key': key, 'data-testid': key, text, 'aria-label': label, onclick });
}

// `button` marked as the one whose item is open below its table (aria-current) when `isCurrent`.
export function current(button, isCurrent) {
  if (isCurrent) button.setAttribute('aria-current', 'true');
  return button;
}

// Fills `table` with a caption, its column headings (text, or { text, num } for a number column)
// and `rows` (tr elements); without rows, one row saying `empty`. Stacked on a phone.
export function dataTable(table, { caption, heads, rows, empty }) {
  const cols = heads.map((head) => (typeof head === 'string' ? { text: head } : head));
  clear(
    table,
    h('caption', { text: caption }),
    h('thead', {}, h('tr', {}, cols.map((col) => h('th', { scope: 'col', class: col.num ? 'num' : '', text: col.text })))),
    h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: String(cols.length), class: 'empty', text: empty }))),
  );
  return stacked(table);
}

// Fills `list` with one item a row (`item(row)` makes its li), or with one item saying `empty`.
export function dataList(list, rows, item, empty) {
  return clear(list, rows.length ? rows.map(item) : h('li', { class: 'empty', text: empty }));
}

// A live region's writer: say('success' | 'error' | 'info', text); say(null, '') empties it. `text`
// may be a function returning the translated text (its values may be functions too): the message is
// then made again in the new language when the language changes. A message given as plain text was
// made in the old language (and may hold the service's words in it): it goes.
export function sayer(selector) {
  return (kind, text) => {
    const el = document.querySelector(selector);
    if (kind) el.dataset.kind = kind;
    else delete el.dataset.kind;
    el.textContent = typeof text === 'function' ? text() : text;
    if (el.textContent) said.set(el, text);
    else said.delete(el);
  };
}

onLangChange(() => {
  for (const [el, text] of said) {
    if (typeof text === 'function') {
      el.textContent = text();
      continue;
    }
    el.textContent = '';
    delete el.dataset.kind;
    said.delete(el);
  }
});

// Sends a form: `send()` runs with `button` disabled and the form marked busy, both undone however
// it ends; what `send` returns is returned.
export async function whileSending(form, button, send) {
  const hadFocus = document.activeElement === button;
  button.disabled = true;
  form.setAttribute('aria-busy', 'true');
  try {
    return await send();
  } finally {
    button.disabled = false;
    form.removeAttribute('aria-busy');
    // disabling the button took the focus from it: it goes back there unless the page moved it on
    if (hadFocus && (!document.activeElement || document.activeElement === document.body)) button.focus();
  }
}

// A section's panel error writer: errorPanel('#x-error')(error) shows why its data is missing,
// errorPanel('#x-error')(null) hides it.
export function errorPanel(selector) {
  return (error) => {
    const el = document.querySelector(selector);
    el.textContent = error ? `${t('panel.unavailable')} ${errorMessage(error)}` : '';
    el.hidden = !error;
  };
}
