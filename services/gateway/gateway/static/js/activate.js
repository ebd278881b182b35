// Activation page: the one-time link of an approved registration (or of a password reset) sets the
// account's password. The token arrives in ?token=…; it is kept in memory and removed from the
// address bar at once, so it stays out of the history and of anything shared from this tab.

import { ApiError, errorMessage } from './api.js';
import { $ } from './dom.js';
import { currentLang, initI18n, onLangChange, t } from './i18n.js';

const MIN_LENGTH = 12;
// where each role works once signed in
const HOME = { market_operator: '/operator', shopkeeper: '/shop', trader: '/trader' };

const token = new URLSearchParams(window.location.search).get('token') || '';
let done = null; // the account, once activated

function showProblem(field, text) {
  $('#activate-message').textContent = text;
  for (const id of ['activate-password', 'activate-confirm']) {
    if (id === field) $(`#${id}`).setAttribute('aria-invalid', 'true');
    else $(`#${id}`).removeAttribute('aria-invalid');
  }
  if (field) $(`#${field}`).focus();
}

function showDone() {
  $('#activate-form').hidden = true;
  const box = $('#activate-done');
  box.hidden = false;
  box.querySelector('[role="status"]').textContent = t('activate.done', { username: done.username });
  $('#activate-login').href = HOME[done.role] || '/';
}

function noLink() {
  $('#activate-submit').disabled = true;
  showProblem(null, t('activate.no_token'));
}

async function submit(event) {
  event.preventDefault();
  const password = $('#activate-password').value;
  if (password.length < MIN_LENGTH) return showProblem('activate-password', t('activate.too_short'));
  if ($('#activate-confirm').value !== password) return showProblem('activate-confirm', t('activate.mismatch'));
  const button = $('#activate-submit');
  button.disabled = true;
  showProblem(null, '');
  try {
    const response = await fetch('/api/v1/auth/activate', {
      method: 'POST',
      headers: { Accept: 'application/json', 'Content-Type': 'application/json', 'Accept-Language': currentLang() },
      body: JSON.stringify({ token, password }),
    });
    const body = await response.json().catch(() => null);
    if (!response.ok) throw new ApiError(response.status, body, response.headers.get('Retry-After'));
    done = body;
    showDone();
    $('#activate-done').focus();
  } catch (error) {
    const found = error instanceof ApiError ? error.problem : null;
    const onPassword = found?.errors?.[0]?.field === 'body.password';
    // the API's own words: the policy's reason, or why the link is no good and what to do
    const text = onPassword ? found.errors[0].message : found?.detail || errorMessage(error);
    showProblem(onPassword ? 'activate-password' : null, text);
    // a link that is not valid stays so: only a new one from the office helps
    button.disabled = error instanceof ApiError && error.status === 400;
  }
}

async function main() {
  await initI18n();
  if (token) window.history.replaceState(null, '', window.location.pathname);
  $('#activate-form').addEventListener('submit', submit);
  onLangChange(() => {
    if (done) showDone();
    else if (!token) noLink();
  });
  if (!token) noLink();
}

main();
