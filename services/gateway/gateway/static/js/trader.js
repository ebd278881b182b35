// The traders' page (market traders, call applicants, spuntisti), phone first: the open calls of
// every market with an application form each, the published rankings with the trader's own
// application marked, and today's spunta at a chosen market (present, the result, the presences).
// The trader's own applications are read from the API at login (GET /applications), so any session
// or device shows them; a second application's 409 names the first, then they are read again.

import { ApiError, api, apiAnswer, apiList, errorMessage } from './api.js';
import { criteriaTable, criterionLabel, rankingTable } from './callviews.js';
import { $, clear, h, keepFocus } from './dom.js';
import { dataList, errorPanel, sayer, showInvalid as showInvalidIn, showProblem as showProblemIn, startSubmit } from './forms.js';
import { DASH, dateTime, num, romeToday, time } from './format.js';
import { initI18n, onLangChange, t, tOr } from './i18n.js';
import { setupSession } from './session.js';
import { resultView } from './spunta.js';

const CATEGORIES = ['food', 'non_food', 'food_service', 'services', 'social_cultural', 'craft'];
const HOLDER_MAX = 200;
const OFFER_MAX = 5000;
const DECLARATION_MAX = 1000;
// where each other role works
const HOME = { commerce_office: '/', market_operator: '/operator', shopkeeper: '/shop' };

const state = {
  me: null,
  markets: [], // every market, for the names of the calls' markets
  open: [],
  closed: [],
  applications: {}, // call id -> the trader's application to it (or only its number, from a 409)
  applying: null, // the call whose form is open
  draft: null, // what was typed in that form, kept across a re-render
  rankings: {}, // call id -> its ranking, once shown
  marketId: null,
  result: null,
  presences: null,
  registration: null, // {status, candidate} of today's "present"
};

const enc = encodeURIComponent;
const say = sayer('#trader-message');
const setCallsError = errorPanel('#calls-error');
const showProblem = (form, error, messageEl) => showProblemIn(form, error, messageEl, say);
const showInvalid = (problems, messageEl) => showInvalidIn(problems, messageEl, say);
const marketName = (id) => state.markets.find((m) => m.id === id)?.name || id;
// the markets holding a spunta: those still trading
const tradingMarkets = () => state.markets.filter((m) => m.active !== false);
const CRITERIA_NAMES = { codes: false }; // a trader reads each criterion's description, not its code

// ---------------------------------------------------------------- calls

async function loadApplications() {
  const applications = {};
  for (const application of await apiList('/applications')) applications[application.call_id] ??= application;
  return applications;
}

async function loadCalls() {
  try {
    const [open, closed, awarded, applications] = await Promise.all([
      apiList('/calls', { status: 'open' }),
      apiList('/calls', { status: 'closed' }),
      apiList('/calls', { status: 'awarded' }),
      loadApplications(),
    ]);
    state.open = open;
    state.closed = [...closed, ...awarded];
    state.applications = applications;
    setCallsError(null);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return;
    setCallsError(error);
  }
  renderCalls();
}

function callFacts(call) {
  return h(
    'dl',
    { class: 'facts' },
    h('dt', { text: t('operator.market') }), h('dd', { 'data-testid': 'call-market', text: marketName(call.market_id) }),
    h('dt', { text: t('calls.col.stalls') }), h('dd', { text: (call.stalls || []).join(', ') || DASH }),
    h('dt', { text: t('calls.categories') }), h('dd', { text: (call.categories || []).length ? call.categories.map((c) => tOr('category', c)).join(', ') : t('calls.any_category') }),
    h('dt', { text: t('calls.col.deadline') }), h('dd', { text: dateTime(call.deadline) }),
  );
}

function applicationNote(call) {
  const mine = state.applications[call.id];
  if (!mine) return null;
  const facts = mine.holder
    ? t('trader.applied', { id: mine.id, at: dateTime(mine.submitted_at), holder: mine.holder, stalls: (mine.stalls || []).join(', ') || t('calls.any_stall') })
    : t('trader.applied_before', { id: mine.id });
  const next = call.status === 'open' ? t('trader.state_open', { deadline: dateTime(call.deadline) }) : tOr('trader.state', call.status);
  return h(
    'div',
    { class: 'notice notice-ok', 'data-testid': `applied-${call.id}` },
    h('p', {}, h('span', { 'aria-hidden': 'true', text: '✓ ' }), facts),
    h('p', { 'data-testid': 'application-state', text: next }),
  );
}

// A labelled control; `required` marks the label with * as every form of the platform does.
function field(id, label, control, hint = null, required = false) {
  return h(
    'div',
    { class: 'field' },
    h('label', { for: id }, required ? [h('span', { text: label }), ' *'] : label),
    control,
    hint ? h('p', { id: `${id}-hint`, class: 'muted small', text: hint }) : null,
  );
}

function applyForm(call) {
  const draft = state.draft || {};
  const categories = (call.categories || []).length ? call.categories : CATEGORIES;
  return h(
    'form',
    { id: 'apply-form', class: 'apply-form', novalidate: true, 'data-testid': 'apply-form', 'aria-labelledby': 'apply-title', onsubmit: (event) => submitApplication(event, call) },
    h('h4', { id: 'apply-title', text: t('trader.apply_title', { title: call.title }) }),
    h('p', { class: 'muted small', text: t('trader.required_intro') }),
    field('apply-holder', t('trader.holder'), h('input', { id: 'apply-holder', name: 'holder', type: 'text', maxlength: String(HOLDER_MAX), autocomplete: 'organization', required: true, 'data-field': 'body.holder', value: draft.holder || '' }), null, true),
    field(
      'apply-category',
      t('calls.category'),
      h(
        'select',
        { id: 'apply-category', name: 'category', required: true, 'data-field': 'body.category' },
        h('option', { value: '', text: t('trader.choose') }),
        categories.map((c) => h('option', { value: c, selected: draft.category === c, text: tOr('category', c) })),
      ),
      null,
      true,
    ),
    field(
      'apply-stalls',
      t('trader.stalls'),
      h('input', { id: 'apply-stalls', name: 'stalls', type: 'text', inputmode: 'text', autocomplete: 'off', 'aria-describedby': 'apply-stalls-hint', 'data-field': 'body.stalls', value: draft.stalls || '' }),
      t('trader.stalls_hint', { stalls: call.stalls.join(', ') }),
    ),
    field('apply-offer', t('calls.offer'), h('textarea', { id: 'apply-offer', name: 'offer', rows: '4', maxlength: String(OFFER_MAX), 'aria-describedby': 'apply-offer-hint', 'data-field': 'body.offer', text: draft.offer || '' }), t('trader.offer_hint')),
    h(
      'fieldset',
      { class: 'declarations' },
      h('legend', { text: t('calls.declarations') }),
      h('p', { class: 'muted small', text: t('trader.declarations_hint') }),
      call.criteria.map((c) =>
        field(
          `apply-decl-${c.name}`,
          criterionLabel(call, c.name, CRITERIA_NAMES),
          h('input', { id: `apply-decl-${c.name}`, name: `declaration-${c.name}`, type: 'text', maxlength: String(DECLARATION_MAX), autocomplete: 'off', 'data-declaration': c.name, 'data-field': `body.declarations.${c.name}`, value: draft.declarations?.[c.name] || '' }),
        ),
      ),
    ),
    h('p', { id: 'apply-message', class: 'form-message', tabindex: '-1', 'data-testid': 'apply-message' }),
    h(
      'div',
      { class: 'form-actions' },
      h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'apply-submit', text: t('trader.apply_submit') }),
      h('button', { type: 'button', class: 'btn btn-secondary', text: t('calls.cancel'), onclick: () => closeForm(call) }),
    ),
  );
}

function readDraft() {
  const form = $('#apply-form');
  if (!form) return null;
  const declarations = {};
  for (const input of form.querySelectorAll('[data-declaration]')) declarations[input.dataset.declaration] = input.value;
  return {
    holder: form.elements.holder.value,
    category: form.elements.category.value,
    stalls: form.elements.stalls.value,
    offer: form.elements.offer.value,
    declarations,
  };
}

function openCallCard(call) {
  const applying = state.applying === call.id;
  const applied = Boolean(state.applications[call.id]);
  return h(
    'li',
    { class: 'trader-call', 'data-testid': `call-${call.id}` },
    h('h3', { id: `call-title-${call.id}`, text: call.title }),
    callFacts(call),
    call.description ? h('p', { text: call.description }) : null,
    criteriaTable(call, CRITERIA_NAMES),
    applicationNote(call),
    applied || applying
      ? null
      : h('button', {
          type: 'button',
          class: 'btn btn-primary btn-block',
          'data-testid': `apply-${call.id}`,
          'data-focus-key': `apply-${call.id}`,
          'aria-expanded': 'false',
          text: t('trader.apply'),
          'aria-label': t('trader.apply_named', { title: call.title }),
          onclick: () => openForm(call),
        }),
    applying ? applyForm(call) : null,
  );
}

function mineIn(call) {
  return state.applications[call.id]?.id ?? null;
}

function ownStanding(ranking, mine) {
  if (mine === null) return null;
  const item = (ranking.items || []).find((i) => i.application === mine);
  let text;
  if (item) text = t('trader.own_rank', { id: mine, rank: item.rank, score: num(item.score, 2), outcome: tOr('outcome', item.outcome), stall: item.stall || DASH });
  else if ((ranking.unscored || []).includes(mine)) text = t('trader.own_unscored', { id: mine });
  else text = t('trader.own_missing', { id: mine });
  return h('p', { class: 'notice notice-ok', 'data-testid': 'own-standing', text });
}

function closedCallCard(call) {
  const ranking = state.rankings[call.id];
  const titleId = `ranking-title-${call.id}`;
  return h(
    'li',
    { class: 'trader-call', 'data-testid': `ranked-${call.id}` },
    h('h4', { id: titleId }, call.title, ' ', h('span', { class: `call-status call-status-${call.status}`, text: tOr('call_status', call.status) })),
    callFacts(call),
    applicationNote(call),
    h('button', {
      type: 'button',
      class: 'btn btn-secondary',
      'data-testid': `ranking-${call.id}`,
      'data-focus-key': `ranking-${call.id}`,
      'aria-expanded': String(Boolean(ranking)),
      text: ranking ? t('trader.ranking_hide') : t('trader.ranking_show'),
      onclick: () => toggleRanking(call),
    }),
    ranking
      ? [
          h('p', { class: 'muted small' }, h('span', { class: 'badge', text: ranking.provisional ? t('calls.provisional') : t('calls.final') }), ' ', t('calls.ranking_intro')),
          ownStanding(ranking, mineIn(call)),
          rankingTable(ranking, call, { labelledBy: titleId, mine: mineIn(call), ...CRITERIA_NAMES }),
        ]
      : null,
  );
}

function renderCalls() {
  keepFocus(() => {
    dataList($('#open-calls'), state.open, openCallCard, t('trader.no_open_calls'));
    dataList($('#closed-calls'), state.closed, closedCallCard, t('trader.no_rankings'));
  });
}

function openForm(call) {
  state.applying = call.id;
  state.draft = null;
  renderCalls();
  $('#apply-holder')?.focus();
}

function closeForm(call) {
  state.applying = null;
  state.draft = null;
  renderCalls();
  document.querySelector(`[data-focus-key="apply-${CSS.escape(call.id)}"]`)?.focus();
}

async function toggleRanking(call) {
  if (state.rankings[call.id]) {
    delete state.rankings[call.id];
    renderCalls();
    return;
  }
  try {
    state.rankings[call.id] = await api(`/calls/${enc(call.id)}/ranking`);
    renderCalls();
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) say('error', errorMessage(error));
    setCallsError(error);
  }
}

// The form's own checks: each problem [field, message], in the form's order.
function validate(form, call) {
  const problems = [];
  const holder = form.elements.holder.value.trim();
  if (!holder) problems.push([form.elements.holder, t('calls.err.required')]);
  if (!form.elements.category.value) problems.push([form.elements.category, t('trader.err.category')]);
  const stalls = form.elements.stalls.value.split(/[\s,;]+/).filter(Boolean);
  const unknown = stalls.filter((n) => !call.stalls.includes(n));
  if (unknown.length) problems.push([form.elements.stalls, t('trader.err.stalls', { stalls: unknown.join(', '), offered: call.stalls.join(', ') })]);
  else if (new Set(stalls).size !== stalls.length) problems.push([form.elements.stalls, t('trader.err.stalls_repeated')]);
  return { problems, holder, stalls };
}

async function submitApplication(event, call) {
  const form = event.currentTarget;
  const message = $('#apply-message');
  startSubmit(event, form, message);
  const { problems, holder, stalls } = validate(form, call);
  if (problems.length) {
    showInvalid(problems, message);
    return;
  }
  const declarations = {};
  for (const input of form.querySelectorAll('[data-declaration]')) {
    const value = input.value.trim();
    if (value) declarations[input.dataset.declaration] = value;
  }
  const body = { holder, category: form.elements.category.value, stalls, offer: form.elements.offer.value.trim(), declarations };
  const submit = form.querySelector('[type="submit"]');
  submit.disabled = true;
  form.setAttribute('aria-busy', 'true');
  try {
    const application = await api(`/calls/${enc(call.id)}/applications`, { method: 'POST', json: body });
    state.applications[call.id] = application;
    showApplied(call);
    say('success', t('trader.applied_said', { id: application.id }));
  } catch (error) {
    submit.disabled = false;
    form.removeAttribute('aria-busy');
    if (error instanceof ApiError && error.status === 401) return;
    if (error instanceof ApiError && error.problem?.code === 'call-already-applied' && error.problem.application) {
      // filed meanwhile elsewhere (another device, the office's counter): the form gives way to that application
      state.applications[call.id] = { id: String(error.problem.application) };
      try {
        Object.assign(state.applications, await loadApplications());
      } catch {
        // its number, from the 409, is shown
      }
      showApplied(call);
      say('error', errorMessage(error));
      return;
    }
    showProblem(form, error, message);
  }
}

// The call's form closed and the trader's application to it shown, focused.
function showApplied(call) {
  state.applying = null;
  state.draft = null;
  renderCalls();
  const note = $(`[data-testid="applied-${CSS.escape(call.id)}"]`);
  note?.setAttribute('tabindex', '-1');
  note?.focus();
}

// ---------------------------------------------------------------- today's spunta

const dayPath = () => `/markets/${enc(state.marketId)}/spunta/${romeToday()}`;

const sayToday = sayer('#today-message');

function renderMarkets() {
  clear(
    $('#today-market'),
    tradingMarkets().map((m) => h('option', { value: m.id, selected: m.id === state.marketId, text: m.name || m.id })),
  );
}

function renderToday() {
  const me = state.me?.username || '';
  const p = state.presences;
  const result = state.result;
  // the presences count days already assigned: today's, just registered, counts once it is
  const pending = Boolean(state.registration) && !result;
  let presences = '';
  if (state.marketId && p) {
    presences = t('trader.presences', { n: num(p.presences), rank: p.rank });
    if (pending) presences = `${presences} ${t('trader.today_counts_later')}`;
  } else if (state.marketId) presences = pending ? t('trader.first_presence_today') : t('trader.no_presences');
  $('#today-presences').textContent = presences;
  const box = $('#today-result');
  if (!result) {
    clear(box, h('p', { class: 'muted small', text: t('spunta.not_assigned') }));
    return;
  }
  const got = result.assignments.find((a) => a.trader === me);
  const outcome = got
    ? t('trader.got_stall', { stall: got.stall })
    : result.unassigned.includes(me)
      ? t('trader.got_none')
      : t('trader.not_present');
  clear(box, h('p', { class: `spunta-outcome${got ? ' spunta-got' : ''}`, 'data-testid': 'today-outcome', text: outcome }), ...resultView(result, me));
}

function registrationText() {
  const r = state.registration;
  if (!r) return '';
  const at = time(r.candidate.registered_at);
  return r.status === 201 ? t('trader.present_done', { time: at }) : t('trader.present_already', { time: at });
}

async function loadToday() {
  if (!state.marketId) return;
  const marketId = state.marketId;
  const me = state.me?.username;
  try {
    const [result, ranking] = await Promise.all([
      api(dayPath()).catch((error) => {
        if (error instanceof ApiError && error.status === 404) return null;
        throw error;
      }),
      apiList(`/markets/${enc(marketId)}/spunta/ranking`),
    ]);
    if (marketId !== state.marketId) return;
    state.result = result;
    const index = ranking.findIndex((s) => s.trader === me);
    state.presences = index === -1 ? null : { presences: ranking[index].presences, rank: index + 1 };
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return;
    sayToday('error', errorMessage(error));
  }
  renderToday();
}

async function chooseMarket(id) {
  state.marketId = id;
  state.result = null;
  state.presences = null;
  state.registration = null;
  sayToday(null, '');
  renderMarkets();
  renderToday();
  await loadToday();
}

async function present() {
  if (!state.marketId || !state.me) return;
  const button = $('#today-present');
  button.disabled = true;
  try {
    const { status, body } = await apiAnswer(`${dayPath()}/candidates`, { method: 'POST', json: { trader: state.me.username } });
    state.registration = { status, candidate: body };
    sayToday('success', registrationText());
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) sayToday('error', errorMessage(error));
  }
  button.disabled = false;
  await loadToday();
}

// ---------------------------------------------------------------- wiring

async function startTrader(me) {
  state.me = me;
  const allowed = me.role === 'trader';
  $('#role-notice').hidden = allowed;
  $('#trader-content').hidden = !allowed;
  $('#role-home').href = HOME[me.role] || '/';
  if (!allowed) return;
  try {
    state.markets = (await apiList('/markets')).filter((m) => m && m.id);
    state.markets.sort((a, b) => String(a.name || a.id).localeCompare(String(b.name || b.id)));
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return;
    setCallsError(error);
  }
  const first = tradingMarkets()[0];
  await Promise.all([loadCalls(), first ? chooseMarket(first.id) : null]);
}

function stopTrader() {
  Object.assign(state, { me: null, markets: [], open: [], closed: [], applications: {}, applying: null, draft: null, rankings: {}, marketId: null, result: null, presences: null, registration: null });
}

const session = setupSession({ onSignedIn: startTrader, onSignedOut: stopTrader });

$('#today-market').addEventListener('change', (event) => chooseMarket(event.target.value));
$('#today-present').addEventListener('click', present);
$('#today-refresh').addEventListener('click', async () => {
  await Promise.all([loadToday(), loadCalls()]);
  say('info', t('trader.refreshed'));
});

onLangChange(() => {
  session.retranslate();
  if ($('#app-view').hidden || !state.me) return;
  state.draft = readDraft();
  renderCalls();
  renderMarkets();
  renderToday();
  if (state.registration) sayToday('success', registrationText());
});

await initI18n();
session.start();

