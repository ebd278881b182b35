// The office's Distretti section: one district at a time, chosen from the list the API gives.
// Its indicators now and over a chosen period (the same charts as the overview's trends card), the
// vitality index with each component explained by the service, the alert thresholds (the service
// checks them: its refusal is shown on the field it names), the alerts, open and resolved, which the
// office acknowledges (who and when are kept), the product mix against the city, the DUC report
// and open-data downloads, and links to the interventions on the district. Alerts raised or
// resolved for the open district arrive from the live stream and the list follows.

import { api, apiList, errorMessage, publicApi } from './api.js';
import { DistrictTrends } from './charts.js';
import { $, clear, h, keepFocus } from './dom.js';
import { DASH, dateTime, isNum, num, pct } from './format.js';
import { clearFieldErrors, dataList, dataTable, errorPanel, sayer, showInvalid, showProblem, startSubmit } from './forms.js';
import { currentLang, t, tOr } from './i18n.js';
import { componentsTable } from './vitality.js';

const REFRESH_AFTER_KPIS_MS = 5000;
// a link straight to one district (the alert mails carry it): /#district-<code>
const DISTRICT_LINK = /^#district-(.+)$/;

// the thresholds' number fields, by their name in the API's body
const NUMBERS = [
  'occupancy_below', 'occupancy_recovered_at',
  'historic_closures_at', 'historic_closures_recovered_at',
  'vitality_drop_over', 'vitality_drop_recovered_at', 'vitality_drop_days',
];

// each number's bounds as the service holds them (alerts/schemas.py): the form checks them before
// sending, so every field out of bounds is shown at once
const BOUNDS = {
  occupancy_below: { min: 0, max: 1 },
  occupancy_recovered_at: { min: 0, max: 1 },
  historic_closures_at: { min: 1, whole: true },
  historic_closures_recovered_at: { min: 0, whole: true },
  vitality_drop_over: { above: 0, max: 100 },
  vitality_drop_recovered_at: { min: 0, max: 100 },
  vitality_drop_days: { min: 1, max: 30, whole: true },
};

// each resolve level -> its alert level, and whether it must lie at or above it (else below it),
// so that an alert does not open and close on every reading (alerts/domain.py, HYSTERESIS)
const HYSTERESIS = {
  occupancy_recovered_at: ['occupancy_below', true],
  historic_closures_recovered_at: ['historic_closures_at', false],
  vitality_drop_recovered_at: ['vitality_drop_over', false],
};

// how an alert's value and threshold read, by condition
const READING = {
  low_occupancy: (v) => pct(v),
  historic_closures: (v) => num(v),
  vitality_drop: (v) => num(v, 1),
};

const state = {
  started: false,
  districts: [],
  code: '',
  district: null,
  alerts: [],
  thresholds: null,
  catalogue: [],
  mix: null,
  interventions: [], // the interventions on the open district, or the error that kept them away
};

let trends = null;
let kpisTimer = null;
const say = sayer('#district-message');
const enc = encodeURIComponent;
const setError = errorPanel('#district-error');
const setAlertsError = errorPanel('#district-alerts-error');
const setMixError = errorPanel('#district-mix-error');

function districtName() {
  return state.district?.name || state.districts.find((d) => d.code === state.code)?.name || state.code;
}

// The district as a DUC: its name when it already says so ("DUC Brera"), else "DUC <name>".
function ducName() {
  const name = districtName();
  return /\bDUC\b/i.test(name) ? name : `DUC ${name}`;
}

// ---------------------------------------------------------------- choosing a district

function renderPicker() {
  clear($('#district-pick'), state.districts.map((d) => h('option', { value: d.code, selected: d.code === state.code, text: d.name || d.code })));
}

function linkedCode() {
  const match = DISTRICT_LINK.exec(location.hash);
  return match ? decodeURIComponent(match[1]) : '';
}

// The workspace's section of a hash this section owns.
export function districtsSectionOf(hash) {
  return DISTRICT_LINK.test(`#${hash}`) ? 'distretti' : null;
}

async function loadDistricts() {
  try {
    const districts = (await apiList('/districts')).filter((d) => d && d.code);
    state.districts = districts.sort((a, b) => (a.name || a.code).localeCompare(b.name || b.code, 'it'));
    setError(null);
  } catch (error) {
    setError(error);
  }
  const linked = linkedCode();
  if (state.districts.some((d) => d.code === linked)) state.code = linked;
  if (!state.districts.some((d) => d.code === state.code)) state.code = state.districts[0]?.code || '';
  renderPicker();
  if (trends) trends.setDistricts(state.districts);
}

async function openDistrict(code) {
  state.code = code;
  state.district = state.districts.find((d) => d.code === code) || null;
  state.alerts = [];
  state.thresholds = null;
  state.mix = null;
  state.interventions = [];
  clearFieldErrors($('#district-thresholds'));
  $('#district-thresholds-message').textContent = '';
  renderAll();
  if (!code) return;
  trends.show(code);
  await Promise.all([loadDistrict(), loadAlerts(), loadThresholds(), loadMix(), loadInterventions()]);
}

// Reads with read(code) what belongs to the district chosen now. Only while that district is still
// the one chosen is the answer kept (keep(answer), then failed(null)) or the failure shown
// (failed(error)); then render() — unless the answer came for a district no longer chosen.
async function loadForChosen(read, keep, failed, render) {
  const code = state.code;
  try {
    const answer = await read(code);
    if (code !== state.code) return;
    keep(answer);
    failed(null);
  } catch (error) {
    if (code === state.code) failed(error);
  }
  render();
}

async function loadDistrict() {
  await loadForChosen(
    (code) => api(`/districts/${enc(code)}`),
    (district) => {
      state.district = district;
    },
    setError,
    () => {
      renderKpis();
      renderVitality();
    },
  );
}

// ---------------------------------------------------------------- indicators now

function renderKpis() {
  const d = state.district;
  const k = d?.kpis || {};
  const stat = (key, value, testid) =>
    h('div', { class: 'stat', 'data-testid': testid }, h('dt', { text: t(key) }), h('dd', { text: value }));
  clear(
    $('#district-kpis'),
    d
      ? [
          stat('districts.col.vitality', num(d.vitality?.index ?? k.vitality_index, 1), 'district-kpi-vitality'),
          stat('districts.col.shops', num(k.shops_active), 'district-kpi-shops'),
          stat('districts.col.historic', num(k.historic_active), 'district-kpi-historic'),
          stat('districts.col.kiosks', num(k.kiosks_active), 'district-kpi-kiosks'),
          stat('districts.col.stalls', `${num(k.stalls_open)} / ${num(k.stalls_total)}`, 'district-kpi-stalls'),
          stat('districts.col.occupancy', pct(k.stall_occupancy), 'district-kpi-occupancy'),
          stat('districts.col.openings', num(k.openings_30d), 'district-kpi-openings'),
          stat('districts.col.closures', num(k.closures_30d), 'district-kpi-closures'),
          stat('district.services_total', num(k.services_total), 'district-kpi-services'),
        ]
      : [],
  );
  $('#district-as-of').textContent = k.as_of ? t('districts.as_of', { time: dateTime(k.as_of) }) : '';
}

function renderVitality() {
  const d = state.district;
  const index = d?.vitality?.index;
  $('#district-vitality-index').textContent = d ? t('district.vitality_index', { value: num(index, 1) }) : '';
  clear($('#district-vitality'), d ? componentsTable(d, { 'data-testid': 'district-components' }) : null);
}

// ---------------------------------------------------------------- alerts

async function loadAlerts() {
  await loadForChosen(
    (code) => apiList(`/districts/${enc(code)}/alerts`),
    (alerts) => {
      // open ones first, then the most recently raised
      state.alerts = alerts.sort((a, b) => (a.state === b.state ? String(b.raised_at).localeCompare(String(a.raised_at)) : a.state === 'open' ? -1 : 1));
    },
    setAlertsError,
    renderAlerts,
  );
}

function alertText(alert) {
  const italian = currentLang() === 'it' ? alert.detail_it : '';
  return italian || alert.detail || '';
}

function reading(alert, value) {
  const format = READING[alert.condition];
  return isNum(value) && format ? format(value) : DASH;
}

function acknowledgement(alert) {
  if (alert.acknowledged_by) {
    return h(
      'p',
      { class: 'alert-ack', id: `alert-ack-${alert.id}`, tabindex: '-1', 'data-focus-key': `alert-ack-${alert.id}`, 'data-testid': `alert-ack-${alert.id}` },
      h('span', { 'aria-hidden': 'true', text: '✓ ' }),
      t('district.alert.acknowledged', { by: alert.acknowledged_by, at: dateTime(alert.acknowledged_at) }),
    );
  }
  return h('button', {
    type: 'button',
    class: 'btn btn-small',
    'data-focus-key': `alert-acknowledge-${alert.id}`,
    'data-testid': `alert-acknowledge-${alert.id}`,
    text: t('district.alert.acknowledge'),
    'aria-label': t('district.alert.acknowledge_named', { condition: tOr('condition', alert.condition), at: dateTime(alert.raised_at) }),
    onclick: (event) => acknowledge(event.currentTarget, alert),
  });
}

function alertItem(alert) {
  const open = alert.state === 'open';
  const facts = [
    ['district.alert.value', reading(alert, alert.value)],
    ['district.alert.threshold', reading(alert, alert.threshold)],
    ['district.alert.raised_at', dateTime(alert.raised_at)],
    ...(open ? [] : [['district.alert.resolved_at', dateTime(alert.resolved_at)]]),
  ];
  return h(
    'li',
    { class: `alert-item district-alert district-alert-${open ? 'open' : 'resolved'}`, 'data-testid': `district-alert-${alert.id}`, 'data-state': alert.state, 'data-condition': alert.condition },
    h(
      'p',
      { class: 'alert-title' },
      h('span', { class: 'alert-icon', 'aria-hidden': 'true', text: open ? '!' : '✓' }),
      h('strong', { text: tOr('condition', alert.condition) || t('alerts.unknown') }),
      ' — ',
      h('span', { class: `alert-state alert-state-${alert.state}`, 'data-testid': `alert-state-${alert.id}`, text: t(`district.alert.state.${alert.state}`) }),
    ),
    alertText(alert) ? h('p', { class: 'alert-detail', 'data-testid': `alert-detail-${alert.id}`, text: alertText(alert) }) : null,
    h('dl', { class: 'facts alert-facts' }, facts.map(([key, value]) => [h('dt', { text: t(key) }), h('dd', { text: value })])),
    acknowledgement(alert),
  );
}

function renderAlerts() {
  const open = state.alerts.filter((a) => a.state === 'open').length;
  $('#district-alerts-count').textContent = state.code ? t('district.alerts_count', { open: num(open), all: num(state.alerts.length) }) : '';
  keepFocus(() => dataList($('#district-alerts'), state.alerts, alertItem, state.code ? t('district.alerts_none') : DASH));
}

async function acknowledge(button, alert) {
  button.disabled = true;
  try {
    const done = await api(`/districts/${enc(alert.district)}/alerts/${enc(alert.id)}/acknowledge`, { method: 'POST' });
    state.alerts = state.alerts.map((a) => (a.id === done.id ? done : a));
    renderAlerts();
    say('success', t('district.alert.acknowledged_said', {
      condition: tOr('condition', done.condition), by: done.acknowledged_by, at: dateTime(done.acknowledged_at),
    }));
    $(`#alert-ack-${CSS.escape(done.id)}`)?.focus();
  } catch (error) {
    button.disabled = false;
    say('error', `${t('district.alert.acknowledge_failed')} ${errorMessage(error)}`);
  }
}

// ---------------------------------------------------------------- thresholds

async function loadThresholds() {
  await loadForChosen(
    (code) =>
      Promise.all([
        api(`/districts/${enc(code)}/thresholds`),
        state.catalogue.length ? { items: state.catalogue } : publicApi('/services/catalogue'),
      ]),
    ([thresholds, catalogue]) => {
      state.thresholds = thresholds;
      state.catalogue = Array.isArray(catalogue?.items) ? catalogue.items : [];
    },
    (error) => {
      if (error) say('error', `${t('district.th.unavailable')} ${errorMessage(error)}`);
    },
    () => fillThresholds(),
  );
}

// The form shows the thresholds as the service holds them (after loading, saving or reset), or
// `values` as typed (a change of language keeps what was typed).
function fillThresholds(values = state.thresholds || {}) {
  const form = $('#district-thresholds');
  for (const name of NUMBERS) $(`#th-${name}`).value = isNum(values[name]) ? String(values[name]) : '';
  const required = new Set(values.required_services || []);
  const codes = [...new Set([...state.catalogue.map((s) => s.code), ...required])];
  clear(
    $('#th-services-list'),
    codes.map((code) =>
      h(
        'li',
        { class: 'check-item' },
        h('input', { type: 'checkbox', id: `th-service-${code}`, value: code, checked: required.has(code), 'data-testid': `th-service-${code}` }),
        h('label', { for: `th-service-${code}`, text: tOr('service_type', code) }),
      ),
    ),
  );
  form.querySelector('button[type="submit"]').disabled = !state.thresholds;
}

// The body as typed (checked by thresholdProblems before it is sent).
function typedThresholds() {
  const body = {};
  for (const name of NUMBERS) {
    const raw = $(`#th-${name}`).value.trim();
    body[name] = raw === '' ? null : Number(raw);
  }
  body.required_services = [...document.querySelectorAll('#th-services-list input:checked')].map((box) => box.value);
  return body;
}

// What is wrong with one number against its bounds, in words; '' when it is within them.
function outOfBounds(value, { min, above, max, whole }) {
  const kind = whole ? 'whole' : 'number';
  const within =
    isNum(value) && (!whole || Number.isInteger(value)) &&
    (above === undefined || value > above) && (min === undefined || value >= min) && (max === undefined || value <= max);
  if (within) return '';
  if (above !== undefined) return t('district.th.err.above', { above: num(above, 2), max: num(max, 2) });
  if (max === undefined) return t(`district.th.err.${kind}_from`, { min: num(min, 2) });
  return t(`district.th.err.${kind}_range`, { min: num(min, 2), max: num(max, 2) });
}

// Every field the service would refuse, each with its reason: the bounds, then each resolve level
// against its alert level (when both are within their bounds), named by the alert level's label.
function thresholdProblems(body) {
  const problems = [];
  const wrong = new Set();
  for (const name of NUMBERS) {
    const text = outOfBounds(body[name], BOUNDS[name]);
    if (!text) continue;
    wrong.add(name);
    problems.push([$(`#th-${name}`), text]);
  }
  for (const [name, [alertLevel, atLeast]] of Object.entries(HYSTERESIS)) {
    if (wrong.has(name) || wrong.has(alertLevel)) continue;
    const value = body[name];
    const level = body[alertLevel];
    if (atLeast ? value >= level : value < level) continue;
    const words = { label: t(`district.th.${alertLevel}`), value: num(level, 2) };
    problems.push([$(`#th-${name}`), t(atLeast ? 'district.th.err.at_least_alert' : 'district.th.err.below_alert', words)]);
  }
  return problems.sort(([a], [b]) => NUMBERS.indexOf(a.id.slice(3)) - NUMBERS.indexOf(b.id.slice(3)));
}

async function saveThresholds(event) {
  const form = event.currentTarget;
  const message = $('#district-thresholds-message');
  const code = state.code;
  startSubmit(event, form, message);
  const body = typedThresholds();
  const problems = thresholdProblems(body);
  if (problems.length) {
    showInvalid(problems, message, say);
    return;
  }
  const submit = $('#district-thresholds-submit');
  submit.disabled = true;
  try {
    state.thresholds = await api(`/districts/${enc(code)}/thresholds`, { method: 'PUT', json: body });
    fillThresholds();
    say('success', t('district.th.saved', { name: districtName() }));
  } catch (error) {
    showProblem(form, error, message, say);
  } finally {
    submit.disabled = !state.thresholds;
  }
}

// ---------------------------------------------------------------- product mix

async function loadMix() {
  await loadForChosen(
    (code) => api(`/districts/${enc(code)}/mix`),
    (mix) => {
      state.mix = mix;
    },
    setMixError,
    renderMix,
  );
}

function gapCell(line, threshold) {
  if (!line.gap) return h('td', { 'data-testid': `mix-gap-${line.category}`, text: t('district.mix.no_gap') });
  return h(
    'td',
    { class: 'mix-gap', 'data-testid': `mix-gap-${line.category}` },
    h('span', { 'aria-hidden': 'true', text: '⚠ ' }),
    t('district.mix.gap', { threshold: num(threshold, 2) }),
  );
}

function renderMix() {
  const table = $('#district-mix');
  const mix = state.mix;
  const lines = Array.isArray(mix?.lines) ? mix.lines : [];
  const heads = ['district.mix.category', 'district.mix.count', 'district.mix.share', 'district.mix.city_share', 'district.mix.quotient', 'district.mix.per_10000', 'district.mix.gap_col'];
  dataTable(table, {
    caption: mix ? t('district.mix.caption', { name: districtName(), total: num(mix.total), city: num(mix.city_total) }) : t('district.mix_title'),
    heads: heads.map((key, i) => ({ text: t(key), num: i > 0 && i < 6 })),
    rows: lines.map((line) =>
      h(
        'tr',
        { 'data-testid': `mix-row-${line.category}`, class: line.gap ? 'mix-gap-row' : '' },
        h('th', { scope: 'row', text: line.label || tOr('category', line.category) }),
        h('td', { class: 'num', text: num(line.count) }),
        h('td', { class: 'num', text: pct(line.share, 1) }),
        h('td', { class: 'num', text: pct(line.city_share, 1) }),
        h('td', { class: 'num', text: num(line.quotient, 2) }),
        h('td', { class: 'num', text: num(line.per_10000, 1) }),
        gapCell(line, mix.threshold),
      ),
    ),
    empty: mix ? t('district.mix.empty') : DASH,
  });
  const stalls = Object.entries(mix?.stalls || {}).filter(([, n]) => isNum(n) && n > 0);
  $('#district-stalls').textContent = stalls.length
    ? t('district.mix.stalls', { list: stalls.map(([category, n]) => `${tOr('category', category)} ${num(n)}`).join(', ') })
    : '';
}

// ---------------------------------------------------------------- report and downloads

function renderExports() {
  const code = state.code;
  const lang = currentLang();
  const link = (href, key, testid, vars = {}) =>
    h('li', {}, h('a', { href, 'data-testid': testid, text: t(key, vars) }));
  clear(
    $('#district-exports'),
    code
      ? [
          link(`/api/v1/districts/${enc(code)}/report?lang=${lang}`, 'district.export.report', 'export-report', { name: ducName() }),
          link(`/api/v1/districts/${enc(code)}/report?format=pdf&lang=${lang}`, 'district.export.report_pdf', 'export-report-pdf', { name: ducName() }),
        ]
      : [],
    link('/api/v1/districts.csv', 'district.export.csv', 'export-csv'),
    link('/api/v1/districts.geojson', 'district.export.geojson', 'export-geojson'),
    link('/api/v1/opendata/catalog.jsonld', 'district.export.catalog', 'export-catalog'),
  );
}

// ---------------------------------------------------------------- interventions on the district

async function loadInterventions() {
  const code = state.code;
  let found;
  try {
    found = (await apiList('/interventions')).filter((i) => i.target?.type === 'district' && i.target.id === code);
  } catch (error) {
    found = error;
  }
  if (code !== state.code) return;
  state.interventions = found;
  renderInterventions();
}

// Links to the Interventi section, opened on each intervention that targets the district.
function renderInterventions() {
  const found = state.interventions;
  const item = (i) =>
    h(
      'li',
      {},
      h('a', { href: `#intervention-${enc(i.code)}`, 'data-testid': `district-intervention-${i.code}`, text: i.title }),
      ` — ${tOr('intervention_kind', i.kind)}, ${t('district.intervention_since', { at: dateTime(i.started_at) })}`,
    );
  clear(
    $('#district-interventions'),
    found instanceof Error
      ? h('li', { class: 'panel-error', text: `${t('panel.unavailable')} ${errorMessage(found)}` })
      : found.length
        ? found.map(item)
        : h('li', { class: 'empty', text: state.code ? t('district.interventions_none') : DASH }),
    h('li', {}, h('a', { href: '#interventi', text: t('district.interventions_all') })),
  );
}

// ---------------------------------------------------------------- the whole section

function renderAll({ thresholds = state.thresholds || {} } = {}) {
  renderKpis();
  renderVitality();
  renderAlerts();
  renderMix();
  renderExports();
  renderInterventions();
  fillThresholds(thresholds);
}

export function setupDistricts() {
  $('#district-pick').addEventListener('change', (event) => {
    say('info', '');
    // the address names the district shown, so a reload or a bookmark opens it again
    history.replaceState(null, '', `#district-${enc(event.target.value)}`);
    openDistrict(event.target.value);
  });
  $('#district-refresh').addEventListener('click', async () => {
    await loadDistricts();
    await openDistrict(state.code);
    say('info', t('workspace.refreshed'));
  });
  $('#district-thresholds').addEventListener('submit', saveThresholds);
  $('#district-thresholds-reset').addEventListener('click', () => {
    clearFieldErrors($('#district-thresholds'));
    $('#district-thresholds-message').textContent = '';
    fillThresholds();
  });
}

// The first time the section is shown its districts are read; afterwards the open district stays,
// unless the address names another one.
export async function showDistricts() {
  if (!trends) trends = new DistrictTrends($('#district-trends'), { testid: 'district-trend' });
  if (state.started) {
    const linked = linkedCode();
    if (linked && linked !== state.code && state.districts.some((d) => d.code === linked)) {
      state.code = linked;
      renderPicker();
      await openDistrict(linked);
      return;
    }
    trends.fit();
    if (state.code) await loadAlerts();
    return;
  }
  state.started = true;
  await loadDistricts();
  await openDistrict(state.code);
}

// An event from the live stream: alerts of the open district are read again; its KPIs, shortly.
export function districtEvent(type, data) {
  if (!state.started || !state.code || data?.district !== state.code) return;
  if (type.startsWith('districts.alert.')) loadAlerts();
  else if (type.startsWith('districts.kpis.')) {
    trends.kpisChanged(state.code);
    clearTimeout(kpisTimer);
    kpisTimer = setTimeout(loadDistrict, REFRESH_AFTER_KPIS_MS);
  }
}

export function stopDistricts() {
  clearTimeout(kpisTimer);
  Object.assign(state, { started: false, districts: [], code: '', district: null, alerts: [], thresholds: null, mix: null, interventions: [] });
  if (trends) trends.show('');
  renderPicker();
  renderAll();
  say('info', '');
}

export function retranslateDistricts() {
  if (!state.started) return;
  renderAll({ thresholds: typedThresholds() });
  if (state.code) {
    trends.refresh();
    loadMix(); // the categories' names come from the service in the page's language
  }
}
