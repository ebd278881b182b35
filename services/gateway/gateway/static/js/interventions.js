// The office's Interventi section: the interventions registered on a district, a NIL or a market,
// a form to register one (the page checks what it can; the service's refusals are shown on the
// field they name), and one intervention's impact on an indicator: the means before and after the
// start, the comparison group's, the difference-in-differences estimate and the number of samples
// behind each figure, as a table, with the service's own sentence in the page's language.
// /#intervention-<code> opens the section on that intervention (the Distretti section links there).

import { api, apiList } from './api.js';
import { METRICS } from './charts.js';
import { $, clear, h, keepFocus } from './dom.js';
import { DASH, dateTime, isNum, num, pct, romeWallTime, signed } from './format.js';
import { clearFieldErrors, dataTable, errorPanel, rowButton, sayer, showInvalid, showProblem, startSubmit } from './forms.js';
import { t, tOr } from './i18n.js';

// as the service accepts them (docs/api.md, Interventions)
const KINDS = ['market_regeneration', 'new_services', 'events', 'other'];
const TARGET_TYPES = ['district', 'nil', 'market'];
const CODE = /^[a-z0-9][a-z0-9-]{0,63}$/;
const LINK = /^#intervention-(.+)$/;
// a share (0–1) reads as a percentage and moves by percentage points; counts and indexes are
// means, so they keep two decimals
const SHARES = new Set(['stall_occupancy']);

const state = {
  started: false,
  items: [],
  targets: { district: [], nil: [], market: [] }, // [{ id, name }] by target type, sorted by name
  open: null, // the intervention shown
  impact: null, // its impact as last measured, or null
};

const say = sayer('#interventions-message');
const setError = errorPanel('#interventions-error');
const enc = encodeURIComponent;

// ---------------------------------------------------------------- reading

function byName(items) {
  return items.sort((a, b) => a.name.localeCompare(b.name, 'it'));
}

async function loadTargets() {
  const [districts, nils, markets] = await Promise.all([apiList('/districts'), apiList('/nils'), apiList('/markets')]);
  state.targets = {
    district: byName(districts.filter((d) => d?.code).map((d) => ({ id: d.code, name: d.name || d.code }))),
    nil: byName(nils.filter((n) => isNum(n?.id)).map((n) => ({ id: String(n.id), name: `${n.id} ${n.name || ''}`.trim() }))),
    market: byName(markets.filter((m) => m?.id).map((m) => ({ id: m.id, name: m.name || m.id }))),
  };
}

async function loadAll() {
  try {
    const [items] = await Promise.all([apiList('/interventions'), loadTargets()]);
    state.items = items.filter((i) => i?.code);
    setError(null);
  } catch (error) {
    setError(error);
  }
  renderList();
  fillForm();
}

function targetName(type, id) {
  return state.targets[type]?.find((x) => x.id === String(id))?.name || String(id);
}

function targetLabel(target) {
  return target ? `${tOr('intervention_target', target.type)}: ${targetName(target.type, target.id)}` : DASH;
}

// The area an impact was measured on: district:<code> or nil:<id>.
function areaLabel(area) {
  const [type, id] = String(area || '').split(':');
  return id ? targetLabel({ type, id }) : DASH;
}

// ---------------------------------------------------------------- the list

function renderList() {
  const table = $('#interventions-table');
  const heads = ['interventions.col.title', 'interventions.col.code', 'interventions.col.kind', 'interventions.col.target', 'interventions.col.start', 'interventions.col.open'];
  keepFocus(() =>
    dataTable(table, {
      caption: t('interventions.caption', { n: num(state.items.length) }),
      heads: heads.map((key) => t(key)),
      rows: state.items.map((i) =>
        h(
          'tr',
          { 'data-testid': `intervention-row-${i.code}`, class: state.open?.code === i.code ? 'selected-row' : '' },
          h('th', { scope: 'row', text: i.title }),
          h('td', { text: i.code }),
          h('td', { text: tOr('intervention_kind', i.kind) }),
          h('td', { text: targetLabel(i.target) }),
          h('td', { text: dateTime(i.started_at) }),
          h('td', {}, rowButton(`intervention-open-${i.code}`, t('calls.open'), t('interventions.open_named', { title: i.title }), () => openIntervention(i.code, { focus: true }))),
        ),
      ),
      empty: t('interventions.none'),
    }),
  );
}

// ---------------------------------------------------------------- one intervention and its impact

function linkedCode() {
  const match = LINK.exec(location.hash);
  return match ? decodeURIComponent(match[1]) : '';
}

// The workspace's section of a hash this section owns.
export function interventionsSectionOf(hash) {
  return LINK.test(`#${hash}`) ? 'interventi' : null;
}

// `registered`: the intervention was just registered (the message says so before the impact).
async function openIntervention(code, { focus = false, registered = null } = {}) {
  history.replaceState(null, '', `#intervention-${enc(code)}`);
  try {
    state.open = await api(`/interventions/${enc(code)}`);
  } catch (error) {
    setError(error);
    return;
  }
  state.impact = null;
  renderList();
  renderDetail();
  if (focus) $('#intervention-detail-title').focus();
  await measure({ registered });
}

function renderDetail() {
  const i = state.open;
  const panel = $('#intervention-detail');
  panel.hidden = !i;
  if (!i) return;
  $('#intervention-detail-title').textContent = i.title;
  const comparison = i.comparison?.length
    ? i.comparison.map((c) => targetName('district', c)).join(', ')
    : t('interventions.comparison_automatic');
  const facts = [
    ['interventions.col.code', i.code],
    ['interventions.col.kind', tOr('intervention_kind', i.kind)],
    ['interventions.col.target', targetLabel(i.target)],
    ['interventions.col.start', dateTime(i.started_at)],
    ['interventions.col.comparison', comparison],
    ['interventions.col.created', dateTime(i.created_at)],
  ];
  clear($('#intervention-facts'), facts.map(([key, value]) => [h('dt', { text: t(key) }), h('dd', { text: value })]));
  renderImpact();
}

// Nothing was sampled in either window yet: there is no table to show, only words.
function nothingMeasured(impact) {
  return !impact?.observations;
}

// What the message bar says of a measure: that it was measured, or that there is nothing to
// measure yet; after a registration, that it was registered first.
function measuredText(i, impact, registered) {
  const said = registered ? [t('interventions.created', { title: registered.title, code: registered.code })] : [];
  if (nothingMeasured(impact)) said.push(t('interventions.nothing_to_measure', { title: i.title }));
  else said.push(registered ? t('interventions.measured_below') : t('interventions.measured', { title: i.title }));
  return said.join(' ');
}

async function measure({ registered = null } = {}) {
  const i = state.open;
  if (!i) return;
  const form = $('#impact-form');
  const message = $('#impact-form-message');
  clearFieldErrors(form);
  message.textContent = '';
  const query = new URLSearchParams({ metric: $('#impact-metric').value, window_days: $('#impact-window').value.trim() });
  form.setAttribute('aria-busy', 'true');
  try {
    const impact = await api(`/interventions/${enc(i.code)}/impact?${query}`);
    if (state.open?.code !== i.code) return;
    state.impact = impact;
    say(registered ? 'success' : 'info', () => measuredText(i, impact, registered));
  } catch (error) {
    state.impact = null;
    showProblem(form, error, message, say);
  } finally {
    form.removeAttribute('aria-busy');
  }
  renderImpact();
}

function formats(metric) {
  if (SHARES.has(metric)) return { mean: (v) => pct(v, 1), change: (v) => t('interventions.points', { value: signed(isNum(v) ? v * 100 : v, 1) }) };
  return { mean: (v) => num(v, 2), change: (v) => signed(v, 2) };
}

function shiftRow(key, label, shift, format) {
  const cell = (part, text) => h('td', { class: 'num', 'data-testid': `impact-${key}-${part}`, text });
  return h(
    'tr',
    { 'data-testid': `impact-${key}` },
    h('th', { scope: 'row', text: label }),
    cell('before', format.mean(shift?.before?.mean)),
    cell('before-n', num(shift?.before?.observations)),
    cell('after', format.mean(shift?.after?.mean)),
    cell('after-n', num(shift?.after?.observations)),
    cell('change', format.change(shift?.change)),
  );
}

function renderImpact() {
  const impact = state.impact;
  const table = $('#impact-table');
  const sentence = $('#impact-sentence');
  table.closest('.table-wrap').hidden = !impact || nothingMeasured(impact);
  sentence.textContent = impact?.sentence || '';
  if (!impact || nothingMeasured(impact)) return;
  const format = formats(impact.metric);
  const group = impact.comparison || {};
  const areas = (group.districts || []).map((c) => targetName('district', c)).join(', ') || DASH;
  const heads = ['interventions.col.area', 'interventions.col.before', 'interventions.col.before_n', 'interventions.col.after', 'interventions.col.after_n', 'interventions.col.change'];
  dataTable(table, {
    caption: t('interventions.impact_caption', {
      metric: t(`trends.metric.${impact.metric}`),
      from: dateTime(impact.before_from),
      start: dateTime(impact.started_at),
      to: dateTime(impact.after_to),
      n: num(impact.observations),
    }),
    heads: heads.map((key, i) => ({ text: t(key), num: i > 0 })),
    rows: [
      shiftRow('target', t('interventions.row_target', { area: areaLabel(impact.area) }), impact.target, format),
      shiftRow('comparison', t(`interventions.row_comparison_${group.chosen === 'automatic' ? 'automatic' : 'given'}`, { areas }), group, format),
      h(
        'tr',
        { 'data-testid': 'impact-did' },
        h('th', { scope: 'row', text: t('interventions.row_did') }),
        h('td', { colspan: '4', text: t('interventions.did_explained') }),
        h('td', { class: 'num', 'data-testid': 'impact-did-value', text: format.change(impact.difference_in_differences) }),
      ),
    ],
    empty: DASH,
  });
}

// ---------------------------------------------------------------- registering one

function options(select, values, label) {
  const chosen = select.value;
  clear(select, values.map((value) => h('option', { value, text: label(value) })));
  if (values.includes(chosen)) select.value = chosen;
}

function fillTargets() {
  const type = $('#intervention-target-type').value || TARGET_TYPES[0];
  const select = $('#intervention-target');
  const chosen = select.value;
  clear(select, state.targets[type].map((x) => h('option', { value: x.id, selected: x.id === chosen, text: x.name })));
}

// The form's choices in the page's language; what was typed or chosen stays.
function fillForm() {
  options($('#intervention-kind'), KINDS, (k) => tOr('intervention_kind', k));
  options($('#intervention-target-type'), TARGET_TYPES, (k) => tOr('intervention_target', k));
  fillTargets();
  const checked = new Set([...document.querySelectorAll('#intervention-comparison-list input:checked')].map((box) => box.value));
  clear(
    $('#intervention-comparison-list'),
    state.targets.district.map((d) =>
      h(
        'li',
        { class: 'check-item' },
        h('input', { type: 'checkbox', id: `intervention-comparison-${d.id}`, value: d.id, checked: checked.has(d.id), 'data-testid': `intervention-comparison-${d.id}` }),
        h('label', { for: `intervention-comparison-${d.id}`, text: d.name }),
      ),
    ),
  );
  // the first indicator (the vitality index) until another is chosen
  options($('#impact-metric'), METRICS.map(([name]) => name), (name) => t(`trends.metric.${name}`));
}

// Client-side checks, in the order of the form; the service checks the rest (the start's range,
// that the target and the comparison districts exist and differ).
function validate() {
  const problems = [];
  const code = $('#intervention-code');
  if (!code.value.trim()) problems.push([code, t('calls.err.required')]);
  else if (!CODE.test(code.value.trim())) problems.push([code, t('interventions.err.code')]);
  const title = $('#intervention-title-input');
  if (!title.value.trim()) problems.push([title, t('calls.err.required')]);
  const target = $('#intervention-target');
  if (!target.value) problems.push([target, t('interventions.err.target')]);
  const startInput = $('#intervention-start');
  const start = romeWallTime(startInput.value);
  if (!startInput.value) problems.push([startInput, t('calls.err.required')]);
  else if (!start) problems.push([startInput, t('calls.err.deadline_format')]);
  return {
    problems,
    body: {
      code: code.value.trim(),
      title: title.value.trim(),
      kind: $('#intervention-kind').value,
      target: { type: $('#intervention-target-type').value, id: target.value },
      started_at: start ? start.toISOString() : startInput.value,
      comparison: [...document.querySelectorAll('#intervention-comparison-list input:checked')].map((box) => box.value),
    },
  };
}

async function register(event) {
  const form = $('#intervention-form');
  const message = $('#intervention-form-message');
  startSubmit(event, form, message);
  const { problems, body } = validate();
  if (problems.length) {
    showInvalid(problems, message, say);
    return;
  }
  const submit = $('#intervention-submit');
  submit.disabled = true;
  try {
    const created = await api('/interventions', { method: 'POST', json: body });
    form.reset();
    fillForm();
    say('success', t('interventions.created', { title: created.title, code: created.code }));
    state.items = [...state.items.filter((i) => i.code !== created.code), created].sort((a, b) => String(a.started_at).localeCompare(String(b.started_at)));
    await openIntervention(created.code, { focus: true, registered: created });
  } catch (error) {
    showProblem(form, error, message, say);
  } finally {
    submit.disabled = false;
  }
}

// ---------------------------------------------------------------- the section

export function setupInterventions() {
  $('#intervention-form').addEventListener('submit', register);
  $('#intervention-target-type').addEventListener('change', fillTargets);
  $('#impact-form').addEventListener('submit', (event) => {
    event.preventDefault();
    measure();
  });
  $('#interventions-refresh').addEventListener('click', async () => {
    await loadAll();
    say('info', t('workspace.refreshed'));
  });
}

// The first time the section is shown its lists are read; a link to an intervention opens it.
export async function showInterventions() {
  if (!state.started) {
    state.started = true;
    await loadAll();
  }
  const linked = linkedCode();
  if (linked && linked !== state.open?.code) await openIntervention(linked);
}

export function stopInterventions() {
  Object.assign(state, { started: false, items: [], targets: { district: [], nil: [], market: [] }, open: null, impact: null });
  renderList();
  renderDetail();
  say('info', '');
}

export function retranslateInterventions() {
  if (!state.started) return;
  renderList();
  fillForm();
  renderDetail();
  if (state.open) measure(); // the sentence comes from the service in the page's language
}
