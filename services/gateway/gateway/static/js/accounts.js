// The office's accounts and registrations: the self-registrations waiting for a decision (approve,
// handing over the one-time activation link, or reject with a reason), and the accounts with their
// last login: create one, change its role or scope, disable and enable it, reset its password.
// Every write answers in the #accounts-message live region; a refusal naming a field is shown
// next to that field; the audit log below reads itself again after each.

import { ApiError, api, apiList, errorMessage } from './api.js';
import { refreshAudit } from './audit.js';
import { $, clear, h, keepFocus } from './dom.js';
import { DASH, dateTime } from './format.js';
import { USERNAME, clearFieldErrors, current, dataTable, errorPanel, rowButton, sayer, showInvalid, showProblem, startSubmit, whileSending } from './forms.js';
import { currentLang, t, tOr } from './i18n.js';

const ROLES = ['commerce_office', 'market_operator', 'shopkeeper', 'trader'];
const SCOPED = new Set(['market_operator', 'shopkeeper']);
const MIN_PASSWORD = 12;

const state = {
  started: false,
  registrations: [],
  users: [],
  creating: false,
  rejecting: null, // the registration whose rejection form is open
  handover: null, // the last approval: {username, email, activation_url, expires_at, mail}
  selected: null, // the username open in the detail view
  confirming: null, // 'disable' | 'enable' | 'reset' on the selected account
  reset: null, // the last password reset of the selected account
};

const say = sayer('#accounts-message');
const enc = encodeURIComponent;

const setError = errorPanel('#accounts-error');

function roleText(role) {
  return tOr('role', role) || DASH;
}

// ---------------------------------------------------------------- loading

async function load() {
  try {
    const [registrations, users] = await Promise.all([
      apiList('/registrations', { state: 'pending' }),
      apiList('/users'),
    ]);
    state.registrations = registrations;
    state.users = users.sort((a, b) => a.username.localeCompare(b.username, currentLang()));
    setError(null);
  } catch (error) {
    setError(error);
  }
  renderRegistrations();
  renderUsers();
  renderDetail();
}

// After a write: the registrations and accounts as they now stand, and the audit log with them.
async function reload() {
  await Promise.all([load(), refreshAudit()]);
}

// ---------------------------------------------------------------- registrations

function shopFacts(r) {
  if (r.shop_id) return t('accounts.shop_existing', { id: r.shop_id });
  if (r.shop) {
    const p = r.shop;
    return t('accounts.shop_proposed', {
      name: p.name,
      address: p.address,
      kind: tOr('shop_kind', p.kind),
      trade: p.trade || DASH,
      id: r.proposed_shop_id || DASH,
    });
  }
  return DASH;
}

function conflictNotice(r) {
  const conflicts = r.conflicts || [];
  if (!conflicts.length) return null;
  return h(
    'div',
    { class: 'notice notice-problem', 'data-testid': `conflicts-${r.id}` },
    conflicts.map((c) => h('p', {}, h('span', { 'aria-hidden': 'true', text: '⚠ ' }), tOr('conflict', c))),
  );
}

function rejectForm(r) {
  const id = `reject-reason-${r.id}`;
  const message = h('p', { class: 'form-message', tabindex: '-1' });
  return h(
    'form',
    { class: 'reject-form', id: `reject-form-${r.id}`, novalidate: true, 'aria-label': t('accounts.reject_form', { username: r.username }), onsubmit: (event) => reject(event, r) },
    h(
      'div',
      { class: 'field' },
      h('label', { for: id }, t('accounts.reject_reason'), ' *'),
      h('textarea', { id, rows: '3', maxlength: '1000', required: true, 'data-field': 'body.reason', 'data-focus-key': id }),
      h('p', { class: 'muted small', text: t('accounts.reject_hint') }),
    ),
    message,
    h(
      'div',
      { class: 'form-actions' },
      h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': `reject-submit-${r.id}`, text: t('accounts.reject_submit') }),
      h('button', { type: 'button', class: 'btn btn-secondary', text: t('calls.cancel'), onclick: () => { state.rejecting = null; renderRegistrations(); $(`#reject-toggle-${CSS.escape(r.id)}`)?.focus(); } }),
    ),
  );
}

function registrationCard(r) {
  const rejecting = state.rejecting === r.id;
  return h(
    'article',
    { class: 'application registration', 'data-testid': `registration-${r.username}`, 'aria-labelledby': `registration-title-${r.id}` },
    h('h4', { id: `registration-title-${r.id}`, tabindex: '-1' }, h('span', { text: r.full_name }), ' — ', h('code', { text: r.username })),
    conflictNotice(r),
    h(
      'dl',
      { class: 'facts' },
      h('dt', { text: t('accounts.col.role') }), h('dd', { text: roleText(r.role) }),
      h('dt', { text: t('accounts.col.username') }), h('dd', {}, h('code', { text: r.username })),
      h('dt', { text: t('accounts.email') }), h('dd', { text: r.email }),
      h('dt', { text: t('accounts.full_name') }), h('dd', { text: r.full_name }),
      h('dt', { text: t('accounts.shop') }), h('dd', { text: shopFacts(r) }),
      h('dt', { text: t('accounts.submitted_at') }), h('dd', { text: dateTime(r.submitted_at) }),
      h('dt', { text: t('accounts.from_address') }), h('dd', { text: r.address || DASH }),
    ),
    h('h5', { text: t('accounts.message') }),
    h('p', { class: 'offer', text: r.message || t('accounts.no_message') }),
    h(
      'div',
      { class: 'form-actions' },
      h('button', { type: 'button', class: 'btn btn-primary', 'data-focus-key': `approve-${r.id}`, 'data-testid': `approve-${r.username}`, text: t('accounts.approve'), 'aria-label': t('accounts.approve_named', { username: r.username }), onclick: (event) => approve(event.currentTarget, r) }),
      h('button', {
        type: 'button',
        class: 'btn btn-secondary',
        id: `reject-toggle-${r.id}`,
        'data-focus-key': `reject-toggle-${r.id}`,
        'data-testid': `reject-${r.username}`,
        'aria-expanded': String(rejecting),
        'aria-controls': `reject-form-${r.id}`,
        text: t('accounts.reject'),
        'aria-label': t('accounts.reject_named', { username: r.username }),
        onclick: () => {
          state.rejecting = rejecting ? null : r.id;
          renderRegistrations();
          (state.rejecting ? $(`#reject-reason-${CSS.escape(r.id)}`) : $(`#reject-toggle-${CSS.escape(r.id)}`))?.focus();
        },
      }),
    ),
    rejecting ? rejectForm(r) : null,
  );
}

function handoverBox() {
  const a = state.handover;
  if (!a) return null;
  const mailKind = a.mail === 'sent' ? 'ok' : 'todo';
  return h(
    'div',
    { class: `notice notice-${mailKind} handover`, id: 'handover', tabindex: '-1', 'data-focus-key': 'handover', 'data-testid': 'handover' },
    h('p', {}, h('strong', { text: t('accounts.approved', { username: a.username }) })),
    h('label', { for: 'handover-url', text: t('accounts.link_label', { at: dateTime(a.expires_at) }) }),
    h('input', { id: 'handover-url', type: 'text', readonly: true, value: a.activation_url, class: 'link-field', 'data-testid': 'handover-url', spellcheck: 'false' }),
    a.mail
      ? h('p', { 'data-testid': 'handover-mail' }, h('span', { 'aria-hidden': 'true', text: a.mail === 'sent' ? '✓ ' : '⚠ ' }), tOr('mail', a.mail))
      : h('p', { 'data-testid': 'handover-mail', text: t('accounts.hand_over') }),
  );
}

function renderRegistrations() {
  $('#registrations-count').textContent = `(${state.registrations.length})`;
  keepFocus(() => {
    clear($('#registrations-handover'), handoverBox());
    clear(
      $('#registrations-list'),
      state.registrations.length
        ? state.registrations.map(registrationCard)
        : h('p', { class: 'muted', 'data-testid': 'registrations-empty', text: t('accounts.no_registrations') }),
    );
  });
}

async function approve(button, r) {
  button.disabled = true;
  try {
    const approval = await api(`/registrations/${enc(r.id)}/approve`, { method: 'POST' });
    state.handover = { ...approval, email: r.email };
    await reload();
    say('success', t('accounts.approved', { username: approval.username }));
    $('#handover')?.focus();
  } catch (error) {
    button.disabled = false;
    say('error', `${t('accounts.approve_refused', { username: r.username })} ${errorMessage(error)}`);
    if (error instanceof ApiError && error.status === 409) await load();
  }
}

async function reject(event, r) {
  const form = event.currentTarget;
  const message = form.querySelector('.form-message');
  const reason = form.querySelector('textarea');
  startSubmit(event, form, message);
  if (!reason.value.trim()) {
    showInvalid([[reason, t('accounts.err.reason')]], message, say);
    return;
  }
  const submit = form.querySelector('[type="submit"]');
  submit.disabled = true;
  try {
    const rejected = await api(`/registrations/${enc(r.id)}/reject`, { method: 'POST', json: { reason: reason.value.trim() } });
    state.rejecting = null;
    await reload();
    say('success', `${t('accounts.rejected', { username: r.username })} ${tOr('mail', rejected.mail)}`);
    $('#registrations-title')?.focus();
  } catch (error) {
    submit.disabled = false;
    showProblem(form, error, message, say);
  }
}

// ---------------------------------------------------------------- accounts

function stateCell(u, testid = `user-state-${u.username}`) {
  return h(
    'span',
    { class: `account-state account-${u.disabled ? 'disabled' : 'active'}`, 'data-testid': testid },
    h('span', { 'aria-hidden': 'true', text: u.disabled ? '⊘ ' : '● ' }),
    t(u.disabled ? 'accounts.disabled' : 'accounts.active'),
  );
}

function renderUsers() {
  const heads = ['accounts.col.username', 'accounts.col.role', 'accounts.col.scope', 'accounts.col.state', 'accounts.col.last_login', 'accounts.col.created', 'accounts.col.manage'];
  keepFocus(() => dataTable($('#users-table'), {
    caption: t('accounts.users_caption', { n: state.users.length }),
    heads: heads.map((key) => t(key)),
    rows: state.users.map((u) =>
      h(
        'tr',
        { 'data-testid': `user-row-${u.username}`, class: state.selected === u.username ? 'selected-row' : '' },
        h('th', { scope: 'row' }, h('code', { text: u.username })),
        h('td', { text: roleText(u.role) }),
        h('td', { text: u.scope || DASH }),
        h('td', {}, stateCell(u)),
        h('td', { text: u.last_login_at ? dateTime(u.last_login_at) : t('accounts.never') }),
        h('td', { text: dateTime(u.created_at) }),
        h('td', {}, current(rowButton(`manage-${u.username}`, t('accounts.manage'), t('accounts.manage_named', { username: u.username }), () => openAccount(u.username)), state.selected === u.username)),
      ),
    ),
    empty: t('accounts.no_users'),
  }));
}

function openAccount(username) {
  state.selected = username;
  state.confirming = null;
  state.reset = null;
  stopCreating({ focus: false });
  say('info', '');
  renderUsers();
  renderDetail();
  $('#account-detail-title')?.focus();
}

function selectedUser() {
  return state.users.find((u) => u.username === state.selected) || null;
}

function roleOptions(selected) {
  return ROLES.map((r) => h('option', { value: r, selected: r === selected, text: roleText(r) }));
}

// The scope field follows the role: none for the office, required for operators and shopkeepers.
function syncScope(roleSelect, scopeInput) {
  const office = roleSelect.value === 'commerce_office';
  scopeInput.disabled = office;
  if (office) scopeInput.value = '';
  scopeInput.required = SCOPED.has(roleSelect.value);
}

function scopeProblem(role, scope) {
  if (SCOPED.has(role) && !scope) return t('accounts.err.scope_needed');
  return null;
}

function roleForm(u) {
  const message = h('p', { class: 'form-message', tabindex: '-1' });
  const role = h('select', { id: 'edit-role', 'data-field': 'body.role', 'data-focus-key': 'edit-role' }, roleOptions(u.role));
  const scope = h('input', { id: 'edit-scope', type: 'text', value: u.scope || '', autocomplete: 'off', spellcheck: 'false', 'data-field': 'body.scope', 'aria-describedby': 'edit-scope-hint', 'data-focus-key': 'edit-scope' });
  role.addEventListener('change', () => syncScope(role, scope));
  syncScope(role, scope);
  return h(
    'form',
    { id: 'role-form', class: 'score-form', novalidate: true, 'aria-labelledby': 'role-form-title', onsubmit: (event) => changeRole(event, u) },
    h('h4', { id: 'role-form-title', text: t('accounts.role_title') }),
    h('p', { class: 'muted small', text: t('accounts.role_intro') }),
    h(
      'div',
      { class: 'form-grid' },
      h('div', { class: 'field' }, h('label', { for: 'edit-role', text: t('accounts.col.role') }), role),
      h('div', { class: 'field' }, h('label', { for: 'edit-scope', text: t('accounts.col.scope') }), scope, h('p', { id: 'edit-scope-hint', class: 'muted small', text: t('accounts.scope_hint') })),
    ),
    message,
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'role-submit', text: t('accounts.role_submit') })),
  );
}

async function changeRole(event, u) {
  const form = event.currentTarget;
  const message = form.querySelector('.form-message');
  startSubmit(event, form, message);
  const role = $('#edit-role').value;
  const scope = $('#edit-scope').value.trim();
  const problem = scopeProblem(role, scope);
  if (problem) {
    showInvalid([[$('#edit-scope'), problem]], message, say);
    return;
  }
  const body = { role };
  if (role !== 'commerce_office') body.scope = scope || null;
  try {
    const saved = await api(`/users/${enc(u.username)}`, { method: 'PATCH', json: body });
    await reload();
    say('success', t('accounts.role_changed', { username: saved.username, role: roleText(saved.role), scope: saved.scope || DASH }));
    $('#account-detail-title')?.focus();
  } catch (error) {
    showProblem(form, error, message, say);
  }
}

const ACTIONS = {
  disable: { path: 'disable', confirm: 'accounts.disable_confirm', button: 'accounts.disable_confirm_button', done: 'accounts.disabled_done' },
  enable: { path: 'enable', confirm: 'accounts.enable_confirm', button: 'accounts.enable_confirm_button', done: 'accounts.enabled_done' },
  reset: { path: 'password-reset', confirm: 'accounts.reset_confirm', button: 'accounts.reset_confirm_button', done: 'accounts.reset_done' },
};

function confirmBox(u) {
  const action = ACTIONS[state.confirming];
  return h(
    'div',
    { class: 'confirm', role: 'group', 'aria-labelledby': 'account-confirm-text', 'data-testid': 'account-confirm', onkeydown: (event) => { if (event.key === 'Escape') cancelConfirm(); } },
    h('p', { id: 'account-confirm-text', text: t(action.confirm, { username: u.username }) }),
    h(
      'div',
      { class: 'form-actions' },
      h('button', { type: 'button', id: 'account-confirm-button', class: 'btn btn-primary', text: t(action.button), onclick: (event) => runAction(event.currentTarget, u) }),
      h('button', { type: 'button', class: 'btn btn-secondary', text: t('calls.cancel'), onclick: cancelConfirm }),
    ),
  );
}

function cancelConfirm() {
  const was = state.confirming;
  state.confirming = null;
  renderDetail();
  $(`#account-${was}`)?.focus();
}

async function runAction(button, u) {
  const name = state.confirming;
  const action = ACTIONS[name];
  button.disabled = true;
  try {
    const answer = await api(`/users/${enc(u.username)}/${action.path}`, { method: 'POST' });
    state.confirming = null;
    if (name === 'reset') state.reset = { ...answer, reset: true };
    await reload();
    say('success', t(action.done, { username: u.username }));
    (name === 'reset' ? $('#reset-result') : $('#account-detail-title'))?.focus();
  } catch (error) {
    state.confirming = null;
    renderDetail();
    say('error', `${t('accounts.action_refused')} ${errorMessage(error)}`);
    $(`#account-${name}`)?.focus();
  }
}

function actionButton(name, label) {
  return h('button', {
    type: 'button',
    id: `account-${name}`,
    class: 'btn btn-secondary',
    'data-focus-key': `account-${name}`,
    'data-testid': `account-${name}`,
    'aria-expanded': String(state.confirming === name),
    text: t(label),
    onclick: () => {
      state.confirming = name;
      renderDetail();
      $('#account-confirm-button')?.focus();
    },
  });
}

function resetResult() {
  const r = state.reset;
  if (!r) return null;
  return h(
    'div',
    { class: 'notice notice-todo handover', id: 'reset-result', tabindex: '-1', 'data-focus-key': 'reset-result', 'data-testid': 'reset-result' },
    h('p', {}, h('strong', { text: t('accounts.reset_done', { username: r.username }) })),
    h('label', { for: 'reset-url', text: t('accounts.link_label', { at: dateTime(r.expires_at) }) }),
    h('input', { id: 'reset-url', type: 'text', readonly: true, value: r.activation_url, class: 'link-field', 'data-testid': 'reset-url', spellcheck: 'false' }),
    h('p', { class: 'small', text: t('accounts.reset_hand_over') }),
  );
}

function renderDetail() {
  const box = $('#account-detail');
  const u = selectedUser();
  if (!u) {
    box.hidden = true;
    clear(box);
    return;
  }
  box.hidden = false;
  // a reload (after an action, or Aggiorna) keeps what the office is choosing in the role form
  const same = box.dataset.user === u.username;
  const chosen = same && $('#edit-role') ? { role: $('#edit-role').value, scope: $('#edit-scope').value } : null;
  box.dataset.user = u.username;
  keepFocus(() => clear(
    box,
    h('div', { class: 'card-head' }, h('h3', { id: 'account-detail-title', tabindex: '-1', 'data-focus-key': 'account-detail-title', 'data-testid': 'account-title' }, t('accounts.account_n'), ' ', h('code', { text: u.username }))),
    h(
      'dl',
      { class: 'facts facts-wide' },
      h('dt', { text: t('accounts.col.role') }), h('dd', { text: roleText(u.role) }),
      h('dt', { text: t('accounts.col.scope') }), h('dd', { text: u.scope || DASH }),
      h('dt', { text: t('accounts.col.state') }), h('dd', {}, stateCell(u, 'account-state')),
      h('dt', { text: t('accounts.col.last_login') }), h('dd', { text: u.last_login_at ? dateTime(u.last_login_at) : t('accounts.never') }),
      h('dt', { text: t('accounts.col.created') }), h('dd', { text: dateTime(u.created_at) }),
    ),
    roleForm(u),
    h('h4', { text: t('accounts.access_title') }),
    h('p', { class: 'muted small', text: t('accounts.access_intro') }),
    h(
      'div',
      { class: 'form-actions' },
      u.disabled ? actionButton('enable', 'accounts.enable') : actionButton('disable', 'accounts.disable'),
      actionButton('reset', 'accounts.reset'),
    ),
    state.confirming ? confirmBox(u) : null,
    resetResult(),
  ));
  if (chosen) {
    $('#edit-role').value = chosen.role;
    $('#edit-scope').value = chosen.scope;
    syncScope($('#edit-role'), $('#edit-scope'));
  }
}

// ---------------------------------------------------------------- creating an account

function startCreating() {
  say('info', '');
  state.creating = true;
  const form = $('#user-form');
  form.reset();
  clearFieldErrors(form);
  $('#user-form-message').textContent = '';
  clear($('#user-role'), roleOptions('trader'));
  syncScope($('#user-role'), $('#user-scope'));
  renderCreating();
  $('#user-username').focus();
}

function stopCreating({ focus = true } = {}) {
  state.creating = false;
  renderCreating();
  if (focus) $('#users-new').focus();
}

function renderCreating() {
  $('#users-new').setAttribute('aria-expanded', String(state.creating));
  $('#user-form').hidden = !state.creating;
}

async function submitUser(event) {
  const form = $('#user-form');
  const message = $('#user-form-message');
  startSubmit(event, form, message);
  const username = $('#user-username');
  const password = $('#user-password');
  const role = $('#user-role').value;
  const scope = $('#user-scope');
  const problems = [];
  if (!username.value.trim()) problems.push([username, t('calls.err.required')]);
  else if (!USERNAME.test(username.value.trim())) problems.push([username, t('accounts.err.username')]);
  if (password.value.length < MIN_PASSWORD) problems.push([password, t('accounts.err.password', { n: MIN_PASSWORD })]);
  const scopeText = scope.value.trim();
  const needed = scopeProblem(role, scopeText);
  if (needed) problems.push([scope, needed]);
  if (problems.length) {
    showInvalid(problems, message, say);
    return;
  }
  await whileSending(form, $('#user-submit'), async () => {
    try {
      const created = await api('/users', {
        method: 'POST',
        json: { username: username.value.trim(), password: password.value, role, scope: scopeText || null },
      });
      password.value = '';
      await reload();
      openAccount(created.username);
      say('success', t('accounts.created', { username: created.username, role: roleText(created.role) }));
    } catch (error) {
      showProblem(form, error, message, say);
    }
  });
}

// ---------------------------------------------------------------- wiring

export function setupAccounts() {
  $('#users-new').addEventListener('click', () => (state.creating ? stopCreating() : startCreating()));
  $('#user-cancel').addEventListener('click', () => stopCreating());
  $('#user-form').addEventListener('submit', submitUser);
  $('#user-form').addEventListener('keydown', (event) => {
    if (event.key === 'Escape') stopCreating();
  });
  $('#user-role').addEventListener('change', () => syncScope($('#user-role'), $('#user-scope')));
  $('#registrations-refresh').addEventListener('click', async () => {
    await reload();
    say('info', t('workspace.refreshed'));
  });
}

// Loads the registrations and accounts each time the section is shown (they change elsewhere).
export async function showAccounts() {
  state.started = true;
  await load();
}

export function stopAccounts() {
  Object.assign(state, { started: false, registrations: [], users: [], creating: false, rejecting: null, handover: null, selected: null, confirming: null, reset: null });
  renderCreating();
  renderDetail();
  say('info', '');
}

export function retranslateAccounts() {
  if (!state.started) return;
  const role = $('#user-role').value;
  clear($('#user-role'), roleOptions(role || 'trader'));
  renderRegistrations();
  renderUsers();
  renderDetail();
}
