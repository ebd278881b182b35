// The office's "Concessioni e spazi" section: the concessions of the markets filtered by market,
// state and how soon they end, a page at a time; one concession opened to renew it, transfer it to
// another trader's account or revoke it with a reason (after a confirmation). Below, the market's
// social and cultural spaces (spaces.js). Every write answers in #concessions-message; a refusal
// that names a field is shown next to that field.

import { ApiError, api, apiList, errorMessage } from './api.js';
import { $, clear, h, keepFocus } from './dom.js';
import { clearFieldErrors, current, dataTable, errorPanel, rowButton, sayer, setFieldError, showInvalid as showInvalidIn, showProblem as showProblemIn, startSubmit } from './forms.js';
import { DASH, calendarDay, dateTime, num } from './format.js';
import { currentLang, t, tOr } from './i18n.js';
import { setupSpaces } from './spaces.js';

const STATES = ['active', 'expired', 'revoked', 'released'];
const PAGE = 20;
const DEFAULT_DAYS = '90';
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const enc = encodeURIComponent;

const state = {
  started: false,
  me: null,
  markets: [],
  traders: [],
  filter: { market: '', state: 'active', days: DEFAULT_DAYS },
  offset: 0,
  total: 0,
  items: [],
  selected: null, // the concession open below the list
  confirming: false, // the revocation waits for its confirmation
};

const say = sayer('#concessions-message');
const setError = errorPanel('#concessions-error');
const showProblem = (form, error, messageEl) => showProblemIn(form, error, messageEl, say);
const showInvalid = (problems, messageEl) => showInvalidIn(problems, messageEl, say);
const spaces = setupSpaces({ manage: true, me: () => state.me });

const marketName = (id) => state.markets.find((m) => m.id === id)?.name || id || DASH;
const stateText = (value) => tOr('concession_state', value) || DASH;

// ---------------------------------------------------------------- loading

async function loadReferences() {
  try {
    const [markets, users, me] = await Promise.all([apiList('/markets'), apiList('/users'), api('/me')]);
    state.markets = markets.filter((m) => m && m.id).sort((a, b) => String(a.name || a.id).localeCompare(String(b.name || b.id), currentLang()));
    state.traders = users.filter((u) => u.role === 'trader' && !u.disabled).map((u) => u.username).sort();
    state.me = me;
    setError(null);
  } catch (error) {
    setError(error);
  }
  renderFilter();
  renderList();
  renderDetail();
}

function params() {
  const query = { limit: String(PAGE), offset: String(state.offset) };
  if (state.filter.market) query.market = state.filter.market;
  if (state.filter.state) query.state = state.filter.state;
  if (state.filter.days !== '') query.expiring_within_days = state.filter.days;
  return new URLSearchParams(query);
}

async function loadConcessions() {
  const asked = params().toString();
  try {
    const page = await api(`/concessions?${asked}`);
    if (asked !== params().toString()) return;
    state.items = Array.isArray(page?.items) ? page.items : [];
    state.total = Number.isFinite(page?.total) ? page.total : state.items.length;
    setError(null);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return;
    setError(error);
  }
  renderList();
}

async function reloadSelected() {
  if (!state.selected) return;
  try {
    state.selected = await api(`/concessions/${enc(state.selected.id)}`);
  } catch (error) {
    setError(error);
  }
}

// ---------------------------------------------------------------- filter and list

// Drawn again when the markets' names arrive and on a language switch: a choice the office has
// made but not applied yet stays chosen.
function renderFilter() {
  const chosen = (select, applied) => (select.options.length ? select.value : applied);
  const marketSelect = $('#concessions-market');
  const stateSelect = $('#concessions-state');
  const market = chosen(marketSelect, state.filter.market);
  const wanted = chosen(stateSelect, state.filter.state);
  clear(
    marketSelect,
    h('option', { value: '', selected: !market, text: t('concessions.all_markets') }),
    state.markets.map((m) => h('option', { value: m.id, selected: m.id === market, text: m.name || m.id })),
  );
  clear(
    stateSelect,
    h('option', { value: '', selected: !wanted, text: t('concessions.any_state') }),
    STATES.map((s) => h('option', { value: s, selected: s === wanted, text: stateText(s) })),
  );
}

function stateBadge(c) {
  return h('span', { class: `call-status concession-${c.state}`, 'data-testid': `concession-state-${c.id}`, text: stateText(c.state) });
}

function renderList() {
  const first = state.items.length ? state.offset + 1 : 0;
  keepFocus(() => dataTable($('#concessions-table'), {
    caption: state.items.length
      ? t('concessions.caption', { from: num(first), to: num(state.offset + state.items.length), total: num(state.total) })
      : t('concessions.caption_none'),
    heads: [t('concessions.col.holder'), t('concessions.col.trader'), t('concessions.col.stall'), t('concessions.col.start'), t('concessions.col.end'), t('concessions.state'), t('concessions.col.manage')],
    empty: t('concessions.none'),
    rows: state.items.map((c) => h(
      'tr',
      { 'data-testid': `concession-row-${c.id}`, class: state.selected?.id === c.id ? 'selected-row' : '' },
      h('th', { scope: 'row' }, h('span', { class: 'cell-title', text: c.holder }), h('span', { class: 'cell-sub', text: c.id })),
      h('td', { text: c.trader || DASH }),
      h('td', { text: t('concessions.stall_of', { number: c.number, market: marketName(c.market_id) }) }),
      h('td', { text: calendarDay(c.start) }),
      h('td', { text: calendarDay(c.end) }),
      h('td', {}, stateBadge(c)),
      h('td', {}, current(
        rowButton(`concession-open-${c.id}`, t('concessions.manage'), t('concessions.manage_named', { holder: c.holder, number: c.number, market: marketName(c.market_id) }), () => openConcession(c)),
        state.selected?.id === c.id,
      )),
    )),
  }));
  $('#concessions-previous').disabled = state.offset === 0;
  $('#concessions-next').disabled = state.offset + state.items.length >= state.total;
}

async function applyFilter(event) {
  const form = event.currentTarget;
  const message = $('#concessions-filter-message');
  startSubmit(event, form, message);
  const days = $('#concessions-days');
  const wanted = { market: $('#concessions-market').value, state: $('#concessions-state').value, days: days.value.trim() };
  const n = Number(wanted.days);
  if (wanted.days !== '' && (!Number.isInteger(n) || n < 0 || n > 3650)) {
    showInvalid([[days, t('concessions.err.days')]], message);
    return;
  }
  if (wanted.days !== '' && wanted.state && wanted.state !== 'active') {
    showInvalid([[days, t('concessions.err.days_active')]], message);
    return;
  }
  state.filter = wanted;
  state.offset = 0;
  try {
    const page = await api(`/concessions?${params()}`);
    state.items = page.items;
    state.total = page.total;
    setError(null);
    renderList();
    say('info', t('concessions.found', { n: num(state.total) }));
  } catch (error) {
    showProblem(form, error, message);
  }
}

function turnPage(step) {
  state.offset = Math.max(0, state.offset + step * PAGE);
  loadConcessions().then(() => $('#concessions-title').focus());
}

// ---------------------------------------------------------------- one concession

function openConcession(c) {
  state.selected = c;
  state.confirming = false;
  say('info', '');
  renderList();
  renderDetail();
  $('#concession-detail-title')?.focus();
}

function field(id, label, input, hint = null) {
  return h(
    'div',
    { class: 'field' },
    h('label', { for: id }, t(label), input.required ? ' *' : ''),
    input,
    hint ? h('p', { id: `${id}-hint`, class: 'muted small', text: t(hint) }) : null,
  );
}

function actionForm(name, title, intro, fields, submit, onsubmit) {
  return h(
    'form',
    { id: `concession-${name}`, class: 'score-form', novalidate: true, 'aria-labelledby': `concession-${name}-title`, 'data-testid': `concession-${name}`, onsubmit },
    h('h4', { id: `concession-${name}-title`, text: t(title) }),
    h('p', { class: 'muted small', text: t(intro) }),
    h('div', { class: 'form-grid' }, fields),
    h('p', { class: 'form-message', tabindex: '-1' }),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn btn-secondary', 'data-testid': `concession-${name}-submit`, text: t(submit) })),
  );
}

function renewForm(c) {
  const end = h('input', { id: 'renew-end', type: 'date', required: true, min: c.end, 'data-field': 'body.end', 'aria-describedby': 'renew-end-hint' });
  return actionForm('renew', 'concessions.renew_title', 'concessions.renew_intro', field('renew-end', 'concessions.new_end', end, 'concessions.new_end_hint'), 'concessions.renew', (event) => renew(event, c));
}

function transferForm(c) {
  const trader = h(
    'select',
    { id: 'transfer-trader', required: true, 'data-field': 'body.trader' },
    h('option', { value: '', text: t('concessions.pick_trader') }),
    state.traders.filter((u) => u !== c.trader).map((u) => h('option', { value: u, text: u })),
  );
  const holder = h('input', { id: 'transfer-holder', type: 'text', maxlength: '200', autocomplete: 'off', 'data-field': 'body.holder', 'aria-describedby': 'transfer-holder-hint' });
  return actionForm(
    'transfer', 'concessions.transfer_title', 'concessions.transfer_intro',
    [field('transfer-trader', 'concessions.col.trader', trader), field('transfer-holder', 'concessions.new_holder', holder, 'concessions.new_holder_hint')],
    'concessions.transfer', (event) => transfer(event, c),
  );
}

function revokeForm(c) {
  const reason = h('textarea', { id: 'revoke-reason', rows: '3', maxlength: '1000', required: true, 'data-field': 'body.reason' });
  const form = actionForm('revoke', 'concessions.revoke_title', 'concessions.revoke_intro', h('div', { class: 'field field-wide' }, h('label', { for: 'revoke-reason' }, t('concessions.reason'), ' *'), reason), 'concessions.revoke', (event) => askRevoke(event));
  if (state.confirming) {
    form.querySelector('.form-actions').replaceWith(h(
      'div',
      { class: 'confirm', role: 'group', 'aria-labelledby': 'revoke-confirm-text', 'data-testid': 'revoke-confirm', onkeydown: (event) => { if (event.key === 'Escape') cancelRevoke(); } },
      h('p', { id: 'revoke-confirm-text', text: t('concessions.revoke_confirm_text', { holder: c.holder, number: c.number, market: marketName(c.market_id) }) }),
      h(
        'div',
        { class: 'form-actions' },
        h('button', { type: 'button', id: 'revoke-confirm-button', class: 'btn btn-primary', text: t('concessions.revoke_confirm'), onclick: (event) => revoke(event.currentTarget, c) }),
        h('button', { type: 'button', class: 'btn btn-secondary', text: t('calls.cancel'), onclick: cancelRevoke }),
      ),
    ));
  }
  return form;
}

function renderDetail() {
  const box = $('#concession-detail');
  const c = state.selected;
  box.hidden = !c;
  if (!c) {
    clear(box);
    return;
  }
  // a refresh (a live event, a language switch) keeps what was typed and where the focus was
  const typed = new Map([...box.querySelectorAll('input, select, textarea')].map((el) => [el.id, el.value]));
  const focused = box.contains(document.activeElement) ? document.activeElement.id : null;
  const invalid = [...box.querySelectorAll('[aria-invalid="true"]')].map((el) => [el.id, document.getElementById(`${el.id}-error`)?.textContent.replace(/^⚠ /, '') || '']);
  const fact = (label, value) => [h('dt', { text: t(label) }), h('dd', {}, value)];
  clear(
    box,
    h('h3', { id: 'concession-detail-title', tabindex: '-1', 'data-testid': 'concession-title', text: t('concessions.detail_title', { holder: c.holder, number: c.number, market: marketName(c.market_id) }) }),
    h(
      'dl',
      { class: 'facts facts-wide', 'data-testid': 'concession-facts' },
      fact('calls.id', h('code', { text: c.id })),
      fact('concessions.col.holder', c.holder),
      fact('concessions.col.trader', c.trader || DASH),
      fact('concessions.col.start', calendarDay(c.start)),
      fact('concessions.col.end', calendarDay(c.end)),
      fact('concessions.state', stateBadge(c)),
      fact('concessions.granted_at', dateTime(c.granted_at)),
      c.ended_at ? fact('concessions.ended_at', dateTime(c.ended_at)) : null,
      c.reason ? fact('concessions.reason', c.reason) : null,
    ),
    c.state === 'active'
      ? h('div', { class: 'concession-actions' }, renewForm(c), transferForm(c), revokeForm(c))
      : h('p', { class: 'muted', text: t('concessions.ended') }),
  );
  for (const [id, value] of typed) {
    const el = document.getElementById(id);
    if (el) el.value = value;
  }
  for (const [id, message] of invalid) {
    const el = document.getElementById(id);
    if (el) setFieldError(el, message);
  }
  if (focused) document.getElementById(focused)?.focus();
}

// ---------------------------------------------------------------- renew, transfer, revoke

// Sends one change of the open concession; on success the list and the concession follow.
async function change(form, c, action, body, done) {
  const message = form.querySelector('.form-message');
  const submit = form.querySelector('[type="submit"], #revoke-confirm-button');
  if (submit) submit.disabled = true;
  try {
    state.selected = await api(`/concessions/${enc(c.id)}/${action}`, { method: 'POST', json: body });
    state.confirming = false;
    await loadConcessions();
    clear($('#concession-detail')); // what was typed is done with
    renderDetail();
    say('success', done(state.selected));
    $('#concession-detail-title')?.focus();
  } catch (error) {
    if (submit) submit.disabled = false;
    if (error instanceof ApiError && error.status === 409) {
      await reloadSelected();
      await loadConcessions();
    }
    if (state.confirming) {
      state.confirming = false;
      renderDetail();
    }
    const again = document.getElementById(form.id) || form;
    showProblem(again, error, again.querySelector('.form-message') || message);
  }
}

function renew(event, c) {
  event.preventDefault();
  const form = event.currentTarget;
  clearFieldErrors(form);
  const end = $('#renew-end');
  const problems = [];
  if (!end.value) problems.push([end, t('calls.err.required')]);
  else if (!DAY.test(end.value)) problems.push([end, t('spaces.err.day')]);
  else if (end.value <= c.end) problems.push([end, t('concessions.err.end_after', { end: calendarDay(c.end) })]);
  if (problems.length) return showInvalid(problems, form.querySelector('.form-message'));
  return change(form, c, 'renew', { end: end.value }, (r) => t('concessions.renewed', { holder: r.holder, end: calendarDay(r.end) }));
}

function transfer(event, c) {
  event.preventDefault();
  const form = event.currentTarget;
  clearFieldErrors(form);
  const trader = $('#transfer-trader');
  const holder = $('#transfer-holder').value.trim();
  if (!trader.value) return showInvalid([[trader, t('concessions.err.trader')]], form.querySelector('.form-message'));
  const body = { trader: trader.value };
  if (holder) body.holder = holder;
  return change(form, c, 'transfer', body, (r) => t('concessions.transferred', { trader: r.trader, holder: r.holder }));
}

function askRevoke(event) {
  event.preventDefault();
  const form = event.currentTarget;
  clearFieldErrors(form);
  const reason = $('#revoke-reason');
  if (!reason.value.trim()) return showInvalid([[reason, t('concessions.err.reason')]], form.querySelector('.form-message'));
  state.confirming = true;
  renderDetail();
  return $('#revoke-confirm-button').focus();
}

function cancelRevoke() {
  state.confirming = false;
  renderDetail();
  $('#revoke-reason')?.focus();
}

function revoke(button, c) {
  const form = button.closest('form');
  return change(form, c, 'revoke', { reason: $('#revoke-reason').value.trim() }, (r) => t('concessions.revoked', { holder: r.holder, number: r.number }));
}

// ---------------------------------------------------------------- wiring

export function setupConcessions() {
  $('#concessions-filter').addEventListener('submit', applyFilter);
  $('#concessions-previous').addEventListener('click', () => turnPage(-1));
  $('#concessions-next').addEventListener('click', () => turnPage(1));
}

// Loads the markets, the trader accounts and the first page the first time the section is shown.
export async function showConcessions() {
  if (state.started) return;
  state.started = true;
  renderFilter(); // the filter's defaults, before the markets' names arrive
  await loadReferences();
  await Promise.all([loadConcessions(), spaces.showMarkets()]);
}

// A concession or space event from the live stream: the lists follow.
export function concessionEvent(type) {
  if (!state.started) return;
  if (type.startsWith('markets.space.')) spaces.refresh();
  else loadConcessions().then(async () => {
    // the open concession is drawn again only when it changed: what the office typed and the
    // messages next to its fields stay otherwise
    const before = state.selected?.version;
    await reloadSelected();
    if (state.selected && state.selected.version !== before && !state.confirming) renderDetail();
  });
}

export function stopConcessions() {
  Object.assign(state, { started: false, me: null, items: [], total: 0, offset: 0, selected: null, confirming: false });
  spaces.stop();
  renderDetail();
  say('info', '');
}

export function retranslateConcessions() {
  if (!state.started) return;
  renderFilter();
  renderList();
  renderDetail();
  spaces.retranslate();
}
