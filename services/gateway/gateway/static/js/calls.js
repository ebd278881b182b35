// The office's calls (bandi) workspace: a market's calls, publishing a call for its free stalls,
// reading the applications, the committee's scores with reasons, the live ranking with the 1/5
// food-service surface check, and the award (with a confirm step). Every write answers in the
// #calls-message live region; a refusal that names a field is shown next to that field.

import { ApiError, api, apiList, errorMessage } from './api.js';
import { criteriaTable, criterionLabel, rankingTable } from './callviews.js';
import { $, clear, h, keepFocus } from './dom.js';
import { clearFieldErrors, current, dataTable, errorPanel, rowButton, sayer, showInvalid as showInvalidIn, showProblem as showProblemIn, stacked, startSubmit, whileSending } from './forms.js';
import { DASH, dateTime, isNum, num, romeWallTime } from './format.js';
import { currentLang, t, tOr } from './i18n.js';

const CATEGORIES = ['food', 'non_food', 'food_service', 'services', 'social_cultural', 'craft'];
const CRITERION_NAME = /^[a-z][a-z0-9_]{0,39}$/;
// What a new call proposes; the office edits, adds or removes criteria before publishing.
const DEFAULT_CRITERIA = [
  { name: 'offer', weight: 40, max_points: 100, description: 'Offerta economica' },
  { name: 'social_value', weight: 30, max_points: 10, description: 'Valore per il quartiere' },
  { name: 'innovation', weight: 20, max_points: 10, description: 'Innovazione della proposta' },
  { name: 'experience', weight: 10, max_points: 40, description: 'Esperienza nel settore' },
];

const state = {
  started: false,
  markets: [],
  marketId: null,
  calls: [],
  stalls: [],
  creating: false,
  call: null, // the call open in the detail view, with its applications, evaluations and ranking
  applications: [],
  evaluations: [],
  ranking: null,
  scoring: null, // the application whose scoring form is open
  history: new Set(), // applications whose evaluation history is shown
  confirming: false,
  awardProblem: null,
  busy: false,
};

const call = api; // sends the page's language: the markets service answers in it
const enc = encodeURIComponent;

// ---------------------------------------------------------------- messages

const say = sayer('#calls-message');
const showProblem = (form, error, messageEl) => showProblemIn(form, error, messageEl, say);
const showInvalid = (problems, messageEl) => showInvalidIn(problems, messageEl, say);

// ---------------------------------------------------------------- loading

async function loadMarkets() {
  try {
    state.markets = (await apiList('/markets')).filter((m) => m && m.id);
    state.markets.sort((a, b) => String(a.name || a.id).localeCompare(String(b.name || b.id), currentLang()));
    if (!state.marketId || !state.markets.some((m) => m.id === state.marketId)) {
      state.marketId = state.markets[0]?.id || null;
    }
    setError(null);
  } catch (error) {
    setError(error);
  }
  renderMarketSelect();
}

const setError = errorPanel('#calls-error');

async function loadCalls() {
  if (!state.marketId) return;
  const marketId = state.marketId;
  try {
    const [calls, stalls] = await Promise.all([
      apiList(`/markets/${enc(marketId)}/calls`),
      apiList(`/markets/${enc(marketId)}/stalls`),
    ]);
    if (marketId !== state.marketId) return;
    state.calls = calls;
    state.stalls = stalls;
    setError(null);
  } catch (error) {
    setError(error);
  }
  renderCalls();
  if (state.creating) renderForm();
}

async function loadCall(callId) {
  const path = `/calls/${enc(callId)}`;
  const [detail, applications, evaluations, ranking] = await Promise.all([
    call(path),
    apiList(`${path}/applications`),
    apiList(`${path}/evaluations`),
    call(`${path}/ranking`),
  ]);
  state.call = detail;
  state.applications = applications;
  state.evaluations = evaluations;
  state.ranking = ranking;
}

async function openCall(callId, { focus = true } = {}) {
  state.creating = false;
  state.scoring = null;
  state.confirming = false;
  state.awardProblem = null;
  state.history.clear();
  renderForm();
  try {
    await loadCall(callId);
    setError(null);
  } catch (error) {
    setError(error);
    return;
  }
  renderDetail();
  renderCalls();
  if (focus) $('#call-detail-title')?.focus();
}

async function refreshCall({ live = false } = {}) {
  if (!state.call) return;
  try {
    await loadCall(state.call.id);
    setError(null);
  } catch (error) {
    setError(error);
  }
  // a live refresh that lands after the office opened a scoring form does not rebuild the form
  // under them; the data is loaded and shows when the form closes
  if (live && state.scoring) return;
  renderDetail();
}

// ---------------------------------------------------------------- market select and calls table

function renderMarketSelect() {
  const select = $('#calls-market');
  clear(
    select,
    state.markets.map((m) => h('option', { value: m.id, selected: m.id === state.marketId, text: m.name || m.id })),
  );
}

function statusText(status) {
  return tOr('call_status', status) || DASH;
}

function renderCalls() {
  const market = state.markets.find((m) => m.id === state.marketId);
  const heads = ['calls.col.title', 'calls.col.status', 'calls.col.deadline', 'calls.col.stalls', 'calls.col.applications', 'calls.col.open'];
  dataTable($('#calls-table'), {
    caption: t('calls.list_caption', { market: market?.name || state.marketId || DASH }),
    heads: heads.map((key, i) => ({ text: t(key), num: i === 4 })),
    rows: state.calls.map((c) =>
      h(
        'tr',
        { 'data-testid': `call-row-${c.id}`, class: state.call?.id === c.id ? 'selected-row' : '' },
        h('th', { scope: 'row' }, h('span', { class: 'cell-title', text: c.title || c.id }), h('span', { class: 'cell-sub', text: c.id })),
        h('td', {}, h('span', { class: `call-status call-status-${c.status}`, text: statusText(c.status) })),
        h('td', { text: dateTime(c.deadline) }),
        h('td', { text: (c.stalls || []).join(', ') || DASH }),
        h('td', { class: 'num', text: num(c.applications) }),
        h('td', {}, current(rowButton(`call-open-${c.id}`, t('calls.open'), t('calls.open_named', { title: c.title || c.id }), () => {
          say('info', '');
          openCall(c.id);
        }), state.call?.id === c.id)),
      ),
    ),
    empty: t('calls.none'),
  });
}

// ---------------------------------------------------------------- publishing a call

// Stalls a new call may offer: free (no holder) and not already offered by a live call.
function offeredElsewhere() {
  const taken = new Map();
  for (const c of state.calls) {
    if (c.status === 'awarded') continue;
    for (const number of c.stalls || []) taken.set(number, c);
  }
  return taken;
}

function criterionRow(criterion, index) {
  const id = (name) => `criterion-${index}-${name}`;
  const field = (name, label, input) =>
    h('div', { class: `field criterion-${name}` }, h('label', { for: id(name), text: t(label) }), input);
  const remove = h('button', {
    type: 'button',
    class: 'btn btn-small criterion-remove',
    text: t('calls.criterion_remove'),
    'aria-label': t('calls.criterion_remove_named', { n: index + 1 }),
    onclick: () => {
      const rows = readCriteria();
      rows.splice(index, 1);
      renderCriteria(rows, Math.min(index, rows.length - 1));
    },
  });
  return h(
    'fieldset',
    { class: 'criterion', 'data-field': `body.criteria.${index}`, id: `criterion-${index}` },
    h('legend', { text: t('calls.criterion_n', { n: index + 1 }) }),
    h(
      'div',
      { class: 'criterion-grid' },
      field('name', 'calls.criterion_name', h('input', { id: id('name'), type: 'text', value: criterion.name ?? '', required: true, autocomplete: 'off', spellcheck: 'false', 'data-field': `body.criteria.${index}.name`, 'aria-describedby': 'criterion-name-hint' })),
      field('description', 'calls.criterion_description', h('input', { id: id('description'), type: 'text', value: criterion.description ?? '', maxlength: '500', 'data-field': `body.criteria.${index}.description` })),
      field('weight', 'calls.criterion_weight', h('input', { id: id('weight'), type: 'number', inputmode: 'decimal', min: '0', max: '1000', step: 'any', value: criterion.weight ?? '', required: true, 'data-field': `body.criteria.${index}.weight` })),
      field('max_points', 'calls.criterion_max', h('input', { id: id('max_points'), type: 'number', inputmode: 'decimal', min: '0', step: 'any', value: criterion.max_points ?? '', required: true, 'data-field': `body.criteria.${index}.max_points` })),
    ),
    remove,
  );
}

function readCriteria() {
  return [...document.querySelectorAll('#call-criteria .criterion')].map((row, i) => ({
    name: $(`#criterion-${i}-name`).value.trim(),
    description: $(`#criterion-${i}-description`).value.trim(),
    weight: $(`#criterion-${i}-weight`).value,
    max_points: $(`#criterion-${i}-max_points`).value,
  }));
}

function renderCriteria(rows, focusIndex = null) {
  const box = $('#call-criteria');
  clear(box, rows.map(criterionRow));
  for (const button of box.querySelectorAll('.criterion-remove')) button.disabled = rows.length < 2;
  if (focusIndex !== null && rows.length) $(`#criterion-${focusIndex}-name`).focus();
}

function renderForm() {
  const form = $('#call-form');
  $('#calls-new').setAttribute('aria-expanded', String(state.creating));
  form.hidden = !state.creating;
  if (!state.creating) return;
  const market = state.markets.find((m) => m.id === state.marketId);
  $('#call-form-market').textContent = market?.name || state.marketId || DASH;
  const taken = offeredElsewhere();
  const checked = new Set([...form.querySelectorAll('input[name="stall"]:checked')].map((i) => i.value));
  const free = state.stalls.filter((s) => s && !s.holder);
  clear(
    $('#call-stall-list'),
    free.length
      ? free.map((s) => {
          const other = taken.get(s.number);
          const id = `call-stall-${s.number}`;
          return h(
            'li',
            { class: 'check-item' },
            h('input', { type: 'checkbox', id, name: 'stall', value: s.number, checked: checked.has(s.number) && !other, disabled: Boolean(other), 'data-testid': id }),
            h(
              'label',
              { for: id },
              h('strong', { text: t('calls.stall_n', { n: s.number }) }),
              ` · ${num(s.area_m2, 1)} m² · ${tOr('category', s.category)}`,
              other ? h('span', { class: 'cell-sub', text: t('calls.stall_in_call', { call: other.title || other.id }) }) : null,
            ),
          );
        })
      : h('li', { class: 'empty', text: t('calls.no_free_stalls') }),
  );
}

function renderCategories() {
  const checked = new Set([...document.querySelectorAll('#call-category-list input:checked')].map((i) => i.value));
  clear(
    $('#call-category-list'),
    CATEGORIES.map((c) =>
      h(
        'li',
        { class: 'check-item' },
        h('input', { type: 'checkbox', id: `call-category-${c}`, name: 'category', value: c, checked: checked.has(c) }),
        h('label', { for: `call-category-${c}`, text: tOr('category', c) }),
      ),
    ),
  );
}

function startCreating() {
  say('info', '');
  state.creating = true;
  state.call = null;
  renderDetail();
  renderCalls();
  const form = $('#call-form');
  form.reset();
  clearFieldErrors(form);
  $('#call-form-message').textContent = '';
  $('#call-years').value = '20';
  renderCategories();
  renderCriteria(DEFAULT_CRITERIA.map((c) => ({ ...c, description: t(`calls.default.${c.name}`) })));
  renderForm();
  $('#call-title').focus();
}

function stopCreating({ focus = true } = {}) {
  state.creating = false;
  renderForm();
  if (focus) $('#calls-new').focus();
}

// Client-side checks, in the order of the form; each message goes next to its field.
function validateCall(form) {
  const problems = [];
  const title = $('#call-title');
  if (!title.value.trim()) problems.push([title, t('calls.err.required')]);
  const stalls = [...form.querySelectorAll('input[name="stall"]:checked')].map((i) => i.value);
  if (!stalls.length) problems.push([$('#call-stalls'), t('calls.err.stalls')]);
  const criteria = readCriteria();
  if (!criteria.length) problems.push([$('#call-criteria-set'), t('calls.err.criteria')]);
  const seen = new Set();
  criteria.forEach((c, i) => {
    const name = $(`#criterion-${i}-name`);
    if (!c.name) problems.push([name, t('calls.err.required')]);
    else if (!CRITERION_NAME.test(c.name)) problems.push([name, t('calls.err.criterion_name')]);
    else if (seen.has(c.name)) problems.push([name, t('calls.err.criterion_repeated')]);
    seen.add(c.name);
    const weight = Number.parseFloat(c.weight);
    if (!(weight > 0 && weight <= 1000)) problems.push([$(`#criterion-${i}-weight`), t('calls.err.weight')]);
    const max = Number.parseFloat(c.max_points);
    if (!(max > 0 && max <= 1_000_000)) problems.push([$(`#criterion-${i}-max_points`), t('calls.err.max_points')]);
  });
  const deadlineInput = $('#call-deadline');
  const deadline = romeWallTime(deadlineInput.value);
  if (!deadlineInput.value) problems.push([deadlineInput, t('calls.err.required')]);
  else if (!deadline) problems.push([deadlineInput, t('calls.err.deadline_format')]);
  else if (deadline.getTime() <= Date.now()) problems.push([deadlineInput, t('calls.err.deadline_past')]);
  const years = Number(($('#call-years').value || '').trim());
  if (!Number.isInteger(years) || years < 1 || years > 30) problems.push([$('#call-years'), t('calls.err.years')]);
  return {
    problems,
    body: {
      title: title.value.trim(),
      description: $('#call-description').value.trim(),
      stalls,
      criteria: criteria.map((c) => ({ name: c.name, description: c.description, weight: Number.parseFloat(c.weight), max_points: Number.parseFloat(c.max_points) })),
      categories: [...form.querySelectorAll('input[name="category"]:checked')].map((i) => i.value),
      deadline: deadline ? deadline.toISOString() : deadlineInput.value,
      concession_years: years,
    },
  };
}

async function submitCall(event) {
  const form = $('#call-form');
  const message = $('#call-form-message');
  startSubmit(event, form, message);
  const { problems, body } = validateCall(form);
  if (problems.length) {
    showInvalid(problems, message);
    return;
  }
  await whileSending(form, $('#call-submit'), async () => {
    try {
      const created = await call(`/markets/${enc(state.marketId)}/calls`, { method: 'POST', json: body });
      say('success', t('calls.created', { title: created.title, id: created.id }));
      await loadCalls();
      await openCall(created.id);
    } catch (error) {
      showProblem(form, error, message);
    }
  });
}

// ---------------------------------------------------------------- the open call

function evaluationsOf(applicationId) {
  return state.evaluations.filter((e) => e.application === applicationId).sort((a, b) => a.revision - b.revision);
}

function declarations(values) {
  const entries = Object.entries(values || {});
  if (!entries.length) return h('p', { class: 'muted small', text: t('calls.no_declarations') });
  const shown = (v) => (v === true ? t('calls.yes') : v === false ? t('calls.no') : isNum(v) ? num(v, 2) : String(v));
  return h('dl', { class: 'facts' }, entries.map(([k, v]) => [h('dt', { text: tOr('declaration', k) }), h('dd', { text: shown(v) })]));
}

function scoreSummary(latest) {
  if (!latest) return h('p', { class: 'application-state unscored', 'data-testid': 'application-state' }, h('span', { 'aria-hidden': 'true', text: '○ ' }), t('calls.unscored'));
  return h(
    'p',
    { class: 'application-state scored', 'data-testid': 'application-state' },
    h('span', { 'aria-hidden': 'true', text: '● ' }),
    t('calls.scored', { score: num(latest.score, 2), revision: latest.revision, evaluator: latest.evaluator, at: dateTime(latest.at) }),
  );
}

function historyTable(app, history) {
  return stacked(h(
    'table',
    { class: 'data-table compact', id: `history-${app.id}`, 'data-testid': `history-${app.id}` },
    h('caption', { text: t('calls.history_caption', { id: app.id }) }),
    h('thead', {}, h('tr', {}, ['calls.col.revision', 'calls.col.score', 'calls.col.scores', 'calls.col.evaluator', 'calls.col.at'].map((k) => h('th', { scope: 'col', text: t(k) })))),
    h(
      'tbody',
      {},
      history.map((e) =>
        h(
          'tr',
          {},
          h('th', { scope: 'row', class: 'num', text: String(e.revision) }),
          h('td', { class: 'num', text: num(e.score, 2) }),
          h('td', {}, h('ul', { class: 'plain-list' }, Object.entries(e.scores || {}).map(([name, value]) => h('li', {}, h('strong', { text: `${criterionLabel(state.call, name)}: ${num(value, 2)}` }), ` — ${e.reasons?.[name] || DASH}`)))),
          h('td', { text: e.evaluator || DASH }),
          h('td', { text: dateTime(e.at) }),
        ),
      ),
    ),
  ));
}

function scoringForm(app, latest) {
  const formId = `score-form-${app.id}`;
  const inputs = state.call.criteria.map((c, i) => {
    const scoreId = `score-${app.id}-${i}`;
    const reasonId = `reason-${app.id}-${i}`;
    const hintId = `${scoreId}-hint`;
    return h(
      'fieldset',
      { class: 'score-row' },
      h('legend', { text: criterionLabel(state.call, c.name) }),
      h(
        'div',
        { class: 'field' },
        h('label', { for: scoreId, text: t('calls.score_label', { max: num(c.max_points, 2) }) }),
        h('input', { id: scoreId, 'data-focus-key': scoreId, type: 'number', inputmode: 'decimal', min: '0', max: String(c.max_points), step: 'any', required: true, value: latest?.scores?.[c.name] ?? '', 'data-field': `body.scores.${c.name}`, 'data-criterion': c.name, 'data-max': String(c.max_points), 'aria-describedby': hintId }),
        h('p', { id: hintId, class: 'muted small', text: t('calls.score_hint', { max: num(c.max_points, 2), weight: num(c.weight, 2) }) }),
      ),
      h(
        'div',
        { class: 'field' },
        h('label', { for: reasonId, text: t('calls.reason_label') }),
        h('textarea', { id: reasonId, 'data-focus-key': reasonId, rows: '2', maxlength: '2000', required: true, 'data-field': `body.reasons.${c.name}`, 'data-reason': c.name }, latest?.reasons?.[c.name] ?? ''),
      ),
    );
  });
  const message = h('p', { id: `${formId}-message`, class: 'form-message', tabindex: '-1' });
  return h(
    'form',
    { id: formId, class: 'score-form', novalidate: true, 'data-field': 'body.application', 'aria-label': t('calls.score_form', { id: app.id }), onsubmit: (e) => submitScores(e, app) },
    h('p', { class: 'muted small', text: t('calls.score_intro') }),
    inputs,
    message,
    h(
      'div',
      { class: 'form-actions' },
      h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': `score-submit-${app.id}`, text: t('calls.score_submit') }),
      h('button', { type: 'button', class: 'btn btn-secondary', text: t('calls.cancel'), onclick: () => closeScoring(app.id) }),
    ),
  );
}

function closeScoring(appId) {
  state.scoring = null;
  renderDetail();
  $(`#score-toggle-${CSS.escape(appId)}`)?.focus();
}

async function submitScores(event, app) {
  const form = event.currentTarget;
  const message = form.querySelector('.form-message');
  startSubmit(event, form, message);
  const scores = {};
  const reasons = {};
  const problems = [];
  for (const input of form.querySelectorAll('[data-criterion]')) {
    const raw = input.value.trim();
    const value = Number(raw);
    const max = Number(input.dataset.max);
    if (!raw) problems.push([input, t('calls.err.required')]);
    else if (!Number.isFinite(value) || value < 0 || value > max) problems.push([input, t('calls.err.score_range', { max: num(max, 2) })]);
    scores[input.dataset.criterion] = value;
  }
  for (const area of form.querySelectorAll('[data-reason]')) {
    if (!area.value.trim()) problems.push([area, t('calls.err.reason')]);
    reasons[area.dataset.reason] = area.value.trim();
  }
  if (problems.length) {
    showInvalid(problems, message);
    return;
  }
  const submit = form.querySelector('[type="submit"]');
  submit.disabled = true;
  form.setAttribute('aria-busy', 'true');
  try {
    const saved = await call(`/calls/${enc(state.call.id)}/evaluations`, { method: 'POST', json: { application: app.id, scores, reasons } });
    state.scoring = null;
    await refreshCall();
    say('success', t('calls.evaluated', { id: app.id, holder: app.holder, score: num(saved?.latest?.score, 2), revision: saved?.latest?.revision ?? '' }));
    $(`#application-title-${CSS.escape(app.id)}`)?.focus();
  } catch (error) {
    submit.disabled = false;
    form.removeAttribute('aria-busy');
    showProblem(form, error, message);
  }
}

function applicationCard(app) {
  const history = evaluationsOf(app.id);
  const latest = history[history.length - 1] || null;
  const scoring = state.scoring === app.id;
  const showHistory = state.history.has(app.id);
  const awarded = state.call.status === 'awarded';
  const formId = `score-form-${app.id}`;
  return h(
    'article',
    { class: `application${latest ? '' : ' application-unscored'}`, id: `application-${app.id}`, 'data-testid': `application-${app.id}`, 'aria-labelledby': `application-title-${app.id}` },
    h('h4', { id: `application-title-${app.id}`, tabindex: '-1', 'data-focus-key': `application-title-${app.id}` }, `${t('calls.application_n', { id: app.id })} — `, h('span', { text: app.holder || DASH })),
    scoreSummary(latest),
    h(
      'dl',
      { class: 'facts' },
      h('dt', { text: t('calls.applicant') }), h('dd', { text: app.applicant || DASH }),
      h('dt', { text: t('calls.category') }), h('dd', { text: tOr('category', app.category) || DASH }),
      h('dt', { text: t('calls.preferences') }), h('dd', { text: (app.stalls || []).length ? app.stalls.join(', ') : t('calls.any_stall') }),
      h('dt', { text: t('calls.submitted_at') }), h('dd', { text: dateTime(app.submitted_at) }),
    ),
    h('h5', { text: t('calls.offer') }),
    h('p', { class: 'offer', text: app.offer || t('calls.no_offer') }),
    h('h5', { text: t('calls.declarations') }),
    declarations(app.declarations),
    h('h5', { text: t('calls.documents') }),
    (app.documents || []).length
      ? h('ul', { class: 'chips', 'data-testid': `documents-${app.id}` }, app.documents.map((d) => h('li', { class: 'chip' }, h('span', { class: 'visually-hidden', text: `${t('calls.document')} ` }), h('code', { text: d }))))
      : h('p', { class: 'muted small', text: t('calls.no_documents') }),
    h(
      'div',
      { class: 'form-actions' },
      awarded
        ? null
        : h('button', {
            type: 'button',
            class: scoring ? 'btn btn-small' : 'btn btn-primary',
            id: `score-toggle-${app.id}`,
            'data-focus-key': `score-toggle-${app.id}`,
            'data-testid': `score-${app.id}`,
            'aria-expanded': String(scoring),
            'aria-controls': formId,
            text: latest ? t('calls.rescore', { id: app.id }) : t('calls.score', { id: app.id }),
            onclick: () => {
              state.scoring = scoring ? null : app.id;
              renderDetail();
              if (state.scoring) document.querySelector(`#${CSS.escape(formId)} input`)?.focus();
              else $(`#score-toggle-${CSS.escape(app.id)}`)?.focus();
            },
          }),
      history.length
        ? h('button', {
            type: 'button',
            class: 'btn btn-small',
            id: `history-toggle-${app.id}`,
            'data-focus-key': `history-toggle-${app.id}`,
            'aria-expanded': String(showHistory),
            'aria-controls': `history-${app.id}`,
            text: t('calls.history', { n: history.length }),
            onclick: () => {
              if (showHistory) state.history.delete(app.id);
              else state.history.add(app.id);
              renderDetail();
              $(`#history-toggle-${CSS.escape(app.id)}`)?.focus();
            },
          })
        : null,
    ),
    scoring ? scoringForm(app, latest) : null,
    showHistory && history.length ? historyTable(app, history) : null,
  );
}

function surfaceCheck(ranking) {
  const before = ranking.surface_before || {};
  const after = ranking.surface_after || {};
  const cap = isNum(after.food_service_cap_m2) ? after.food_service_cap_m2 : before.food_service_cap_m2;
  const within = isNum(after.food_service_m2) && isNum(cap) ? after.food_service_m2 <= cap + 0.01 : null;
  return h(
    'div',
    { class: `surface-check${within === false ? ' surface-over' : ''}`, 'data-testid': 'surface-check' },
    h('h4', { text: t('calls.surface_title') }),
    h(
      'dl',
      { class: 'facts' },
      h('dt', { text: t('calls.surface_total') }), h('dd', { text: `${num(before.total_m2, 1)} m²` }),
      h('dt', { text: t('calls.surface_cap') }), h('dd', { text: `${num(cap, 1)} m²` }),
      h('dt', { text: t('calls.surface_before') }), h('dd', { text: `${num(before.food_service_m2, 1)} m²` }),
      h('dt', { text: t('calls.surface_after') }), h('dd', { text: `${num(after.food_service_m2, 1)} m²` }),
    ),
    within === null
      ? null
      : h('p', { class: 'surface-verdict', 'data-testid': 'surface-verdict' }, h('span', { 'aria-hidden': 'true', text: within ? '✓ ' : '✗ ' }), t(within ? 'calls.surface_within' : 'calls.surface_over')),
  );
}

function rankingSection() {
  const ranking = state.ranking;
  if (!ranking) return null;
  return h(
    'section',
    { class: 'ranking' },
    h('h3', { id: 'ranking-title' }, t('calls.ranking_title'), ' ', h('span', { class: 'badge', 'data-testid': 'ranking-kind', text: ranking.provisional ? t('calls.provisional') : t('calls.final') })),
    h('p', { class: 'muted small', text: t('calls.ranking_intro') }),
    (ranking.unavailable_stalls || []).length ? h('p', { class: 'panel-error', text: t('calls.unavailable', { stalls: ranking.unavailable_stalls.join(', ') }) }) : null,
    rankingTable(ranking, state.call, { labelledBy: 'ranking-title', names: true }),
    surfaceCheck(ranking),
  );
}

function unscoredNotice() {
  const unscored = state.ranking?.unscored || state.applications.filter((a) => !evaluationsOf(a.id).length).map((a) => a.id);
  if (!state.applications.length) return h('p', { class: 'muted', 'data-testid': 'unscored', text: t('calls.no_applications') });
  if (!unscored.length) return h('p', { class: 'notice notice-ok', 'data-testid': 'unscored' }, h('span', { 'aria-hidden': 'true', text: '✓ ' }), t('calls.all_scored'));
  return h('div', { class: 'notice notice-todo', 'data-testid': 'unscored' }, h('p', {}, h('span', { 'aria-hidden': 'true', text: '○ ' }), t('calls.still_unscored', { n: unscored.length })), applicationLinks(unscored));
}

// Buttons that take the office to applications by number (the unscored ones, from a notice or a 409).
function applicationLinks(ids) {
  return h(
    'ul',
    { class: 'chips' },
    ids.map((id) => {
      const app = state.applications.find((a) => a.id === id);
      return h(
        'li',
        {},
        h('button', {
          type: 'button',
          class: 'btn btn-small',
          text: app ? `${id} — ${app.holder}` : id,
          onclick: () => {
            state.scoring = state.call.status === 'awarded' ? null : id;
            renderDetail();
            const target = document.querySelector(`#score-form-${CSS.escape(id)} input`) || $(`#application-title-${CSS.escape(id)}`);
            target?.focus();
          },
        }),
      );
    }),
  );
}

function awardSection() {
  const awarded = state.call.status === 'awarded';
  const problem = state.awardProblem;
  return h(
    'section',
    { class: 'award', 'aria-labelledby': 'award-title' },
    h('h3', { id: 'award-title', tabindex: '-1', 'data-focus-key': 'award-title', text: t('calls.award_title') }),
    awarded
      ? h('p', { class: 'notice notice-ok', 'data-testid': 'award-done' }, h('span', { 'aria-hidden': 'true', text: '✓ ' }), t('calls.awarded_at', { at: dateTime(state.call.awarded_at) }))
      : h('p', { class: 'muted small', text: t(state.call.status === 'open' ? 'calls.award_after_deadline' : 'calls.award_intro', { deadline: dateTime(state.call.deadline) }) }),
    problem
      ? h(
          'div',
          { class: 'notice notice-problem', id: 'award-problem', tabindex: '-1', 'data-focus-key': 'award-problem', 'data-testid': 'award-problem' },
          h('p', {}, h('strong', { text: `${t('calls.award_refused')} ` }), problem.detail),
          problem.unscored?.length ? [h('p', { text: t('calls.award_unscored', { n: problem.unscored.length }) }), applicationLinks(problem.unscored)] : null,
        )
      : null,
    awarded
      ? null
      : state.confirming
        ? h(
            'div',
            { class: 'confirm', role: 'group', 'aria-labelledby': 'award-confirm-text', 'data-testid': 'award-confirm', onkeydown: (event) => { if (event.key === 'Escape') cancelAward(); } },
            h('p', { id: 'award-confirm-text', text: t('calls.award_confirm_text', { title: state.call.title, stalls: (state.call.stalls || []).join(', ') }) }),
            h(
              'div',
              { class: 'form-actions' },
              h('button', { type: 'button', id: 'award-confirm-button', 'data-focus-key': 'award-confirm', class: 'btn btn-primary', text: t('calls.award_confirm'), onclick: award }),
              h('button', { type: 'button', class: 'btn btn-secondary', text: t('calls.cancel'), onclick: cancelAward }),
            ),
          )
        : h('button', { type: 'button', id: 'award-button', 'data-focus-key': 'award', class: 'btn btn-primary', 'data-testid': 'award', text: t('calls.award'), onclick: () => { state.confirming = true; state.awardProblem = null; renderDetail(); $('#award-confirm-button').focus(); } }),
  );
}

function cancelAward() {
  state.confirming = false;
  renderDetail();
  $('#award-button')?.focus();
}

async function award() {
  const button = $('#award-confirm-button');
  button.disabled = true;
  try {
    state.ranking = await call(`/calls/${enc(state.call.id)}/award`, { method: 'POST' });
    state.confirming = false;
    state.awardProblem = null;
    await refreshCall();
    await loadCalls();
    const won = (state.ranking?.items || []).filter((i) => i.outcome === 'awarded');
    say('success', t('calls.awarded', { n: won.length, stalls: won.map((i) => `${i.stall} → ${i.holder}`).join(', ') || DASH }));
    $('#award-title')?.focus();
  } catch (error) {
    const problem = error instanceof ApiError ? error.problem || {} : {};
    state.confirming = false;
    state.awardProblem = { detail: problem.detail || errorMessage(error), unscored: Array.isArray(problem.unscored) ? problem.unscored : [] };
    if (error instanceof ApiError && error.status === 409) await refreshCall();
    else renderDetail();
    say('error', `${t('calls.award_refused')} ${state.awardProblem.detail}`);
    $('#award-problem')?.focus();
  }
}

function renderDetail() {
  const box = $('#call-detail');
  if (!state.call) {
    box.hidden = true;
    clear(box);
    return;
  }
  const c = state.call;
  box.hidden = false;
  // what the office is typing in an open scoring form survives a re-render (a refresh, a language switch)
  const typed = new Map([...box.querySelectorAll('.score-form input, .score-form textarea')].map((el) => [el.id, el.value]));
  // a refresh from the live stream re-renders the call: the focused control keeps the focus
  keepFocus(() => clear(
    box,
    h(
      'div',
      { class: 'card-head' },
      h('h3', { id: 'call-detail-title', tabindex: '-1', 'data-focus-key': 'call-detail-title', 'data-testid': 'call-title', text: c.title }),
      h('button', { type: 'button', class: 'btn btn-small', 'data-focus-key': 'call-refresh', text: t('calls.refresh'), onclick: async () => { await refreshCall(); say('info', t('calls.refreshed')); } }),
    ),
    h(
      'dl',
      { class: 'facts facts-wide' },
      h('dt', { text: t('calls.id') }), h('dd', {}, h('code', { text: c.id })),
      h('dt', { text: t('calls.col.status') }), h('dd', { 'data-testid': 'call-status' }, h('span', { class: `call-status call-status-${c.status}`, text: statusText(c.status) })),
      h('dt', { text: t('calls.col.deadline') }), h('dd', { text: dateTime(c.deadline) }),
      h('dt', { text: t('calls.col.stalls') }), h('dd', { text: (c.stalls || []).join(', ') || DASH }),
      h('dt', { text: t('calls.categories') }), h('dd', { text: (c.categories || []).length ? c.categories.map((x) => tOr('category', x)).join(', ') : t('calls.any_category') }),
      h('dt', { text: t('calls.years') }), h('dd', { text: num(c.concession_years) }),
    ),
    c.description ? h('p', { text: c.description }) : null,
    criteriaTable(c),
    h('section', { class: 'applications', 'aria-labelledby': 'applications-title' },
      h('h3', { id: 'applications-title', text: t('calls.applications_title', { n: state.applications.length }) }),
      unscoredNotice(),
      state.applications.map(applicationCard),
    ),
    rankingSection(),
    awardSection(),
  ));
  for (const [id, value] of typed) {
    const el = document.getElementById(id);
    if (el) el.value = value;
  }
}

// ---------------------------------------------------------------- wiring

export function setupCalls() {
  $('#calls-market').addEventListener('change', (event) => {
    state.marketId = event.target.value;
    state.call = null;
    renderDetail();
    loadCalls();
  });
  $('#calls-new').addEventListener('click', () => (state.creating ? stopCreating() : startCreating()));
  $('#call-cancel').addEventListener('click', () => stopCreating());
  $('#call-form').addEventListener('submit', submitCall);
  $('#call-form').addEventListener('keydown', (event) => {
    if (event.key === 'Escape') stopCreating();
  });
  $('#criterion-add').addEventListener('click', () => {
    const rows = readCriteria();
    rows.push({ name: '', description: '', weight: '', max_points: '' });
    renderCriteria(rows, rows.length - 1);
  });
}

// Loads the markets and the chosen market's calls the first time the section is shown.
export async function showCalls() {
  if (state.started) return;
  state.started = true;
  await loadMarkets();
  await loadCalls();
}

// A call event from the live stream: the open call and the list follow.
export function callEvent(ce) {
  if (!state.started) return;
  const callId = ce?.data?.call_id;
  if (state.call && (!callId || callId === state.call.id) && !state.scoring) refreshCall({ live: true });
  loadCalls();
}

export function stopCalls() {
  Object.assign(state, { started: false, calls: [], stalls: [], call: null, applications: [], evaluations: [], ranking: null, scoring: null, creating: false, confirming: false, awardProblem: null });
  state.history.clear();
  renderDetail();
  renderForm();
  say('info', '');
}

export function retranslateCalls() {
  if (!state.started) return;
  renderMarketSelect();
  renderCalls();
  renderDetail();
  if (state.creating) {
    renderCategories();
    renderCriteria(readCriteria());
    renderForm();
  }
}
