// Commerce office dashboard: map, district KPIs, alerts, market occupancy, live updates.

import { retranslateAccounts, setupAccounts, showAccounts, stopAccounts } from './accounts.js';
import { api, apiList, errorMessage, freshToken } from './api.js';
import { retranslateAudit, setupAudit, showAudit, stopAudit } from './audit.js';
import { callEvent, retranslateCalls, setupCalls, showCalls, stopCalls } from './calls.js';
import { concessionEvent, retranslateConcessions, setupConcessions, showConcessions, stopConcessions } from './concessions.js';
import { retranslateCategories, setupCategories, stopCategories } from './categories.js';
import { DistrictTrends } from './charts.js';
import { districtEvent, districtsSectionOf, retranslateDistricts, setupDistricts, showDistricts, stopDistricts } from './districts.js';
import { retranslateData, setupData, showData, stopData } from './data.js';
import { $, clear, h, keepFocus } from './dom.js';
import { DASH, ago, dateTime, isNum, isoOrEmpty, num, pct, time } from './format.js';
import { dataList } from './forms.js';
import { initI18n, onLangChange, t, tOr } from './i18n.js';
import { interventionsSectionOf, retranslateInterventions, setupInterventions, showInterventions, stopInterventions } from './interventions.js';
import { CityMap, scaleClass } from './map.js';
import { recognitionEvent, retranslateRecognitions, setupRecognitions, showRecognitions, stopRecognitions } from './recognitions.js';
import { setupSession } from './session.js';
import { LiveStream } from './stream.js';
import { componentsTable } from './vitality.js';
import { setupWorkspace } from './workspace.js';

const REFETCH_DEBOUNCE_MS = 300;
const REFETCH_MAX_WAIT_MS = 1000;
const SAFETY_REFRESH_MS = 5 * 60 * 1000;
const FEED_SIZE = 15;
const SEEN_EVENTS = 1000;
const STATUSES = ['open', 'closed', 'maintenance', 'vacant'];

const state = {
  markets: new Map(),
  marketsLoaded: false,
  districts: [],
  geojson: null,
  overview: null,
  alerts: [],
  feed: [],
  seen: new Set(),
  seenOrder: [],
  expanded: new Set(),
  marketEpoch: new Map(),
  lastUpdate: null,
  sort: {
    districts: { key: 'name', dir: 'asc' },
    markets: { key: 'name', dir: 'asc' },
  },
};

let cityMap = null;
let trends = null;
let stream = null;
let safetyTimer = null;
let clockTimer = null;

// ---------------------------------------------------------------- data helpers

function occupancyOf(market) {
  const occ = market && typeof market.occupancy === 'object' && market.occupancy ? market.occupancy : {};
  const byStatus = occ.by_status && typeof occ.by_status === 'object' ? occ.by_status : {};
  return { ...occ, by_status: byStatus };
}

function statusCount(market, status) {
  const value = occupancyOf(market).by_status[status];
  return isNum(value) ? value : null;
}

function openCount(market) {
  const occ = occupancyOf(market);
  if (isNum(occ.open_now)) return occ.open_now;
  return statusCount(market, 'open');
}

function kpisOf(district) {
  return district && typeof district.kpis === 'object' && district.kpis ? district.kpis : {};
}

function rawVitality(district) {
  const index = district?.vitality?.index;
  if (isNum(index)) return index;
  const kpi = kpisOf(district).vitality_index;
  return isNum(kpi) ? kpi : null;
}

// The vitality index runs from 0 to 100; colours use it as a fraction.
function vitalityFraction(value) {
  return isNum(value) ? value / 100 : null;
}

function districtByCode(code) {
  return state.districts.find((d) => d.code === code) || null;
}

function districtName(code) {
  const district = districtByCode(code);
  if (district?.name) return district.name;
  const feature = (state.geojson?.features || []).find((f) => f?.properties?.code === code);
  return feature?.properties?.name || code || DASH;
}

function openAlertsCount(district) {
  const value = district?.open_alerts;
  if (Array.isArray(value)) return value.length;
  if (isNum(value)) return value;
  return state.alerts.filter((a) => a.district === district?.code).length;
}

function marketName(id) {
  return state.markets.get(id)?.name || id || DASH;
}

// ---------------------------------------------------------------- summary strip

function citySummary() {
  const markets = [...state.markets.values()];
  if (markets.length) {
    const sum = (fn) => markets.reduce((acc, m) => acc + (fn(m) ?? 0), 0);
    const total = sum((m) => occupancyOf(m).stalls_total);
    // Stalls taken over all stalls: each market's rate weighted by its size.
    const assigned = sum((m) => {
      const occ = occupancyOf(m);
      return isNum(occ.occupancy_rate) && isNum(occ.stalls_total) ? occ.occupancy_rate * occ.stalls_total : null;
    });
    return {
      count: markets.length,
      stallsTotal: total,
      stallsOpen: sum(openCount),
      stallsVacant: sum((m) => statusCount(m, 'vacant')),
      occupancy: total > 0 ? assigned / total : null,
    };
  }
  const overview = state.overview?.markets || {};
  return {
    count: overview.count,
    stallsTotal: overview.stalls_total,
    stallsOpen: overview.stalls_open,
    stallsVacant: overview.stalls_vacant,
    occupancy: overview.occupancy_rate,
  };
}

function renderSummary() {
  const s = citySummary();
  const stat = (key, value, testid) =>
    h('div', { class: 'stat', 'data-testid': testid }, h('dt', { text: t(key) }), h('dd', { text: value }));
  clear(
    $('#summary'),
    stat('summary.markets', num(s.count), 'summary-markets'),
    stat('summary.stalls_total', num(s.stallsTotal), 'summary-stalls-total'),
    stat('summary.stalls_open', num(s.stallsOpen), 'summary-stalls-open'),
    stat('summary.stalls_vacant', num(s.stallsVacant), 'summary-stalls-vacant'),
    stat('summary.occupancy', pct(s.occupancy), 'summary-occupancy'),
    stat('summary.districts', num(state.districts.length || state.geojson?.features?.length), 'summary-districts'),
    stat('summary.alerts', num(state.alerts.length), 'summary-alerts'),
  );
  renderLastUpdate();
}

function renderLastUpdate() {
  const el = $('#last-update');
  el.textContent = state.lastUpdate ? t('summary.updated', { time: time(state.lastUpdate) }) : '';
}

function touched() {
  state.lastUpdate = new Date();
  renderLastUpdate();
}

// ---------------------------------------------------------------- partial overview banner

function renderPartial() {
  const banner = $('#partial-banner');
  const overview = state.overview;
  if (!overview || overview.partial !== true) {
    banner.hidden = true;
    return;
  }
  const names = Array.isArray(overview.unavailable) ? overview.unavailable : [];
  const list = names.map((name) => tOr('service', name)).join(', ');
  clear(
    banner,
    h('strong', { text: t('partial.title') }),
    ' ',
    list ? t('partial.detail', { services: list }) : t('partial.detail_unknown'),
  );
  banner.hidden = false;
}

// Each panel keeps showing its last good data and says when a refresh failed. A panel can be fed
// by several requests (the map: perimeters, kiosks, historic shops), so errors are kept per source.
const PANELS = ['alerts-error', 'districts-error', 'markets-error', 'map-error'];
const panelErrors = new Map(); // panel element id -> Map(source -> error)

function renderPanelError(id) {
  const el = $(`#${id}`);
  const [error] = panelErrors.get(id)?.values() ?? [];
  el.textContent = error ? `${t('panel.unavailable')} ${errorMessage(error)}` : '';
  el.hidden = !error;
}

function setPanelError(id, error, source = id) {
  if (!panelErrors.has(id)) panelErrors.set(id, new Map());
  if (error) panelErrors.get(id).set(source, error);
  else panelErrors.get(id).delete(source);
  renderPanelError(id);
}

// ---------------------------------------------------------------- sortable tables

function compare(a, b) {
  const aMissing = a === null || a === undefined || a === '';
  const bMissing = b === null || b === undefined || b === '';
  if (aMissing || bMissing) return aMissing === bMissing ? 0 : aMissing ? 1 : -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b), undefined, { sensitivity: 'base', numeric: true });
}

function sortRows(rows, table, getters) {
  const { key, dir } = state.sort[table];
  const get = getters[key];
  const sign = dir === 'asc' ? 1 : -1;
  return [...rows].sort((x, y) => {
    const valueX = get(x);
    const valueY = get(y);
    const missing = valueX === null || valueX === undefined || valueY === null || valueY === undefined;
    const order = compare(valueX, valueY);
    return missing ? order : order * sign;
  });
}

function headerCell(table, key, labelKey, extraClass = '') {
  const active = state.sort[table].key === key;
  const dir = state.sort[table].dir;
  return h(
    'th',
    { scope: 'col', class: extraClass, 'aria-sort': active ? (dir === 'asc' ? 'ascending' : 'descending') : 'none' },
    h(
      'button',
      {
        type: 'button',
        class: 'sort-button',
        'data-focus-key': `sort-${table}-${key}`,
        onclick: () => {
          const current = state.sort[table];
          state.sort[table] = {
            key,
            dir: current.key === key && current.dir === 'asc' ? 'desc' : 'asc',
          };
          if (table === 'districts') renderDistricts();
          else renderMarkets();
        },
      },
      t(labelKey),
      h('span', { class: 'sort-mark', 'aria-hidden': 'true', text: active ? (dir === 'asc' ? '▲' : '▼') : '↕' }),
    ),
  );
}

// ---------------------------------------------------------------- districts table

const DISTRICT_SORT = {
  name: (d) => d.name || d.code,
  vitality: rawVitality,
  shops_active: (d) => kpisOf(d).shops_active,
  historic_active: (d) => kpisOf(d).historic_active,
  kiosks_active: (d) => kpisOf(d).kiosks_active,
  stalls_open: (d) => kpisOf(d).stalls_open,
  stall_occupancy: (d) => kpisOf(d).stall_occupancy,
  openings_30d: (d) => kpisOf(d).openings_30d,
  closures_30d: (d) => kpisOf(d).closures_30d,
  open_alerts: openAlertsCount,
};

function swatch(fraction) {
  const cls = scaleClass(fraction);
  return h('span', { class: `swatch swatch-${cls === null ? 'none' : cls}`, 'aria-hidden': 'true' });
}

function servicesList(district) {
  const services = kpisOf(district).services_by_type;
  if (!services || typeof services !== 'object') return null;
  const entries = Object.entries(services).filter(([, n]) => isNum(n));
  if (!entries.length) return null;
  return h(
    'div',
    { class: 'services' },
    h('h4', { text: t('districts.services') }),
    h(
      'ul',
      { class: 'chips' },
      entries.map(([name, n]) => h('li', { class: 'chip' }, `${tOr('service_type', name)} `, h('strong', { text: num(n) }))),
    ),
  );
}

function districtRows(district) {
  const k = kpisOf(district);
  const code = district.code || '';
  const vitality = rawVitality(district);
  const detailId = `district-detail-${code}`;
  const expanded = state.expanded.has(code);
  const row = h(
    'tr',
    { 'data-testid': `district-row-${code}` },
    h('th', { scope: 'row' }, h('span', { class: 'cell-title', text: district.name || code }),
      district.name ? h('span', { class: 'cell-sub', text: code }) : null),
    h('td', { class: 'num', 'data-testid': `district-vitality-${code}` }, swatch(vitalityFraction(vitality)), num(vitality, 1)),
    h('td', { class: 'num', text: num(k.shops_active) }),
    h('td', { class: 'num', text: num(k.historic_active) }),
    h('td', { class: 'num', text: num(k.kiosks_active) }),
    h('td', { class: 'num', text: `${num(k.stalls_open)} / ${num(k.stalls_total)}` }),
    h('td', { class: 'num', text: pct(k.stall_occupancy) }),
    h('td', { class: 'num', text: num(k.openings_30d) }),
    h('td', { class: 'num', text: num(k.closures_30d) }),
    h('td', { class: 'num', text: num(openAlertsCount(district)) }),
    h(
      'td',
      {},
      h('button', {
        type: 'button',
        class: 'btn btn-small',
        'aria-expanded': String(expanded),
        'aria-controls': detailId,
        'data-focus-key': `district-toggle-${code}`,
        text: expanded ? t('districts.hide') : t('districts.show'),
        onclick: () => {
          if (state.expanded.has(code)) state.expanded.delete(code);
          else state.expanded.add(code);
          renderDistricts();
        },
      }),
    ),
  );
  const detail = h(
    'tr',
    { id: detailId, class: 'detail-row', hidden: !expanded },
    h(
      'td',
      { colspan: '11' },
      h('div', { class: 'detail' }, componentsTable(district), servicesList(district),
        k.as_of ? h('p', { class: 'muted', text: t('districts.as_of', { time: dateTime(k.as_of) }) }) : null),
    ),
  );
  return [row, detail];
}

// A sortable data table named `name` (its caption, headings and sort keys use that prefix): one heading
// per column plus `extraHeads`, then the sorted rows, or a single row saying `empty`.
function fillTable(table, name, columns, rows, { sort, toRows, empty, extraHeads = [] }) {
  const width = String(columns.length + extraHeads.length);
  keepFocus(() => {
    clear(
      table,
      h('caption', { class: 'visually-hidden', text: t(`${name}.caption`) }),
      h('thead', {}, h('tr', {}, columns.map(([key, label, cls]) => headerCell(name, key, label, cls)), extraHeads)),
      h(
        'tbody',
        {},
        rows.length
          ? sortRows(rows, name, sort).map(toRows)
          : h('tr', {}, h('td', { colspan: width, class: 'empty', text: empty })),
      ),
    );
  });
}

function renderDistricts() {
  const table = $('#district-table');
  const columns = [
    ['name', 'districts.col.name', ''],
    ['vitality', 'districts.col.vitality', 'num'],
    ['shops_active', 'districts.col.shops', 'num'],
    ['historic_active', 'districts.col.historic', 'num'],
    ['kiosks_active', 'districts.col.kiosks', 'num'],
    ['stalls_open', 'districts.col.stalls', 'num'],
    ['stall_occupancy', 'districts.col.occupancy', 'num'],
    ['openings_30d', 'districts.col.openings', 'num'],
    ['closures_30d', 'districts.col.closures', 'num'],
    ['open_alerts', 'districts.col.alerts', 'num'],
  ];
  fillTable(table, 'districts', columns, state.districts, {
    sort: DISTRICT_SORT,
    toRows: districtRows,
    empty: t('districts.empty'),
    extraHeads: [h('th', { scope: 'col', class: 'plain', text: t('districts.col.components') })],
  });
  const asOf = state.districts.map((d) => kpisOf(d).as_of).filter(Boolean).sort().pop();
  $('#districts-as-of').textContent = asOf ? t('districts.as_of', { time: dateTime(asOf) }) : '';
}

// ---------------------------------------------------------------- markets table

const MARKET_SORT = {
  name: (m) => m.name || m.id,
  stalls_total: (m) => occupancyOf(m).stalls_total,
  open: openCount,
  closed: (m) => statusCount(m, 'closed'),
  maintenance: (m) => statusCount(m, 'maintenance'),
  vacant: (m) => statusCount(m, 'vacant'),
  occupancy_rate: (m) => occupancyOf(m).occupancy_rate,
};

function marketRow(market) {
  const id = market.id;
  const occ = occupancyOf(market);
  const open = openCount(market);
  const rate = isNum(occ.occupancy_rate) ? occ.occupancy_rate : null;
  const fill = h('span', { class: `bar-fill swatch-${scaleClass(rate) ?? 'none'}` });
  fill.style.width = `${Math.round((rate ?? 0) * 100)}%`;
  return h(
    'tr',
    { 'data-testid': `market-row-${id}`, 'data-market': id },
    h(
      'th',
      { scope: 'row' },
      h('span', { class: 'cell-title', text: market.name || id }),
      h('span', { class: 'cell-sub', text: [market.address, market.municipio ? t('markets.municipio', { n: market.municipio }) : ''].filter(Boolean).join(' · ') }),
    ),
    h('td', { class: 'num', text: num(occ.stalls_total) }),
    h('td', { class: 'num strong', 'data-testid': `market-open-${id}`, text: isNum(open) ? String(open) : DASH }),
    h('td', { class: 'num', text: num(statusCount(market, 'closed')) }),
    h('td', { class: 'num', text: num(statusCount(market, 'maintenance')) }),
    h('td', { class: 'num', text: num(statusCount(market, 'vacant')) }),
    h('td', { class: 'num' }, h('span', { class: 'bar', 'aria-hidden': 'true' }, fill), h('span', { class: 'bar-value', text: pct(rate) })),
  );
}

function renderMarkets() {
  const table = $('#market-table');
  const columns = [
    ['name', 'markets.col.name', ''],
    ['stalls_total', 'markets.col.total', 'num'],
    ['open', 'markets.col.open', 'num'],
    ['closed', 'markets.col.closed', 'num'],
    ['maintenance', 'markets.col.maintenance', 'num'],
    ['vacant', 'markets.col.vacant', 'num'],
    ['occupancy_rate', 'markets.col.occupancy', 'num'],
  ];
  const markets = [...state.markets.values()];
  fillTable(table, 'markets', columns, markets, {
    sort: MARKET_SORT,
    toRows: marketRow,
    empty: state.marketsLoaded ? t('markets.empty') : t('common.loading'),
  });
}

function updateMarketRow(id, { flash = false } = {}) {
  const market = state.markets.get(id);
  if (!market) return;
  const old = document.querySelector(`[data-testid="market-row-${CSS.escape(id)}"]`);
  const row = marketRow(market);
  if (old) old.replaceWith(row);
  else renderMarkets();
  if (flash) {
    row.classList.add('flash');
    row.addEventListener('animationend', () => row.classList.remove('flash'), { once: true });
  }
  if (cityMap) cityMap.updateMarket(market);
}

// ---------------------------------------------------------------- alerts

function renderAlerts() {
  const list = $('#alerts-list');
  const alerts = [...state.alerts].sort((a, b) => compare(b.raised_at, a.raised_at));
  $('#alerts-count').textContent = alerts.length ? `(${num(alerts.length)})` : '';
  dataList(
    list,
    alerts,
    (alert) => {
      const detailText = alertDetail(alert);
      return h(
        'li',
        { class: 'alert-item', 'data-testid': `alert-${alert.id}` },
        h('p', { class: 'alert-title' }, h('span', { class: 'alert-icon', 'aria-hidden': 'true', text: '!' }),
          h('strong', { text: districtName(alert.district) }), ` — ${tOr('condition', alert.condition) || t('alerts.unknown')}`),
        detailText ? h('p', { class: 'alert-detail', text: detailText }) : null,
        h('p', { class: 'alert-time' }, h('time', { datetime: isoOrEmpty(alert.raised_at), title: dateTime(alert.raised_at), text: t('alerts.raised', { when: ago(alert.raised_at) }) })),
      );
    },
    t('alerts.empty'),
  );
}

// An alert's reading in the page's language, from its condition, value and raise level; the
// service's own sentence (English) only for a condition this page does not know.
function alertDetail(alert) {
  const { value, threshold } = alert;
  const known = isNum(value) && isNum(threshold);
  switch (known ? alert.condition : '') {
    case 'low_occupancy':
      return t('alert_detail.low_occupancy', { value: pct(value), threshold: pct(threshold) });
    case 'historic_closures':
      return t('alert_detail.historic_closures', { value: num(value), threshold: num(threshold) });
    case 'vitality_drop':
      return t('alert_detail.vitality_drop', { value: num(value, 1), threshold: num(threshold, 1) });
    case 'service_missing': {
      const service = typeof alert.key === 'string' ? alert.key.split(':')[1] : '';
      return t('alert_detail.service_missing', { service: tOr('service_type', service) || DASH });
    }
    default:
      return typeof alert.detail === 'string' ? alert.detail : '';
  }
}

// ---------------------------------------------------------------- live feed

function feedText(entry) {
  const ce = entry.ce || {};
  const data = ce.data && typeof ce.data === 'object' ? ce.data : {};
  const subject = typeof ce.subject === 'string' ? ce.subject : '';
  if (entry.type.startsWith('markets.stall.')) {
    const { marketId, number, from, to } = stallChange(ce);
    const parts = [`${marketName(marketId)} · ${t('feed.stall', { number: number ?? DASH })}`];
    if (to) parts.push(from ? `${tOr('status', from)} → ${tOr('status', to)}` : tOr('status', to));
    return parts.join(': ');
  }
  if (entry.type.startsWith('districts.')) {
    return [districtName(data.district || subject), tOr('condition', data.condition)].filter(Boolean).join(' — ');
  }
  return data.name || subject || '';
}

function renderFeed() {
  const list = $('#event-feed');
  dataList(
    list,
    state.feed,
    (entry) =>
      h(
        'li',
        { class: 'feed-item' },
        h('time', { datetime: entry.at.toISOString(), text: time(entry.at) }),
        h('span', { class: 'feed-type', text: tOr('event', entry.type) }),
        h('span', { class: 'feed-text', text: feedText(entry) }),
      ),
    t('feed.empty'),
  );
}

// ---------------------------------------------------------------- map hooks

function popup(title, rows) {
  return h(
    'div',
    { class: 'popup' },
    h('p', { class: 'popup-title', text: title }),
    h('dl', {}, rows.filter(([, v]) => v !== null && v !== undefined && v !== '').map(([k, v]) => [h('dt', { text: t(k) }), h('dd', { text: v })])),
  );
}

const mapHooks = {
  districtFraction: (feature) => {
    const props = feature?.properties || {};
    const district = districtByCode(props.code);
    return vitalityFraction(district ? rawVitality(district) : props.vitality_index);
  },
  districtLabel: (feature) => {
    const props = feature?.properties || {};
    const district = districtByCode(props.code);
    const vitality = district ? rawVitality(district) : props.vitality_index;
    return `${props.name || props.code || ''} · ${t('districts.col.vitality')}: ${num(vitality, 1)}`;
  },
  districtPopup: (feature) => {
    const props = feature?.properties || {};
    const district = districtByCode(props.code);
    const k = district ? kpisOf(district) : props;
    return popup(props.name || props.code || '', [
      ['districts.col.vitality', num(district ? rawVitality(district) : props.vitality_index, 1)],
      ['districts.col.shops', num(k.shops_active)],
      ['districts.col.historic', num(k.historic_active)],
      ['districts.col.kiosks', num(k.kiosks_active)],
      ['districts.col.occupancy', pct(k.stall_occupancy)],
      ['districts.col.alerts', district ? num(openAlertsCount(district)) : null],
    ]);
  },
  marketFraction: (market) => occupancyOf(market).occupancy_rate,
  marketLabel: (market) =>
    `${market.name || market.id} · ${t('markets.col.open')}: ${num(openCount(market))} / ${num(occupancyOf(market).stalls_total)}`,
  marketPopup: (market) => {
    const occ = occupancyOf(market);
    return popup(market.name || market.id, [
      ['markets.address', market.address],
      ['markets.col.open', `${num(openCount(market))} / ${num(occ.stalls_total)}`],
      ['markets.col.vacant', num(statusCount(market, 'vacant'))],
      ['markets.col.occupancy', pct(occ.occupancy_rate)],
    ]);
  },
  shopPopup: (props) =>
    popup(props.name || props.id || '', [
      ['shops.kind', tOr('kind', props.kind)],
      ['markets.address', props.address],
      ['shops.trade', props.trade],
      ['shops.founded', isNum(props.year_founded) ? String(props.year_founded) : null],
      ['shops.status', tOr('shop_status', props.status)],
    ]),
};

// ---------------------------------------------------------------- loading

// When GET /districts fails and nothing is shown yet, the overview's copy of the districts is used.
function useOverviewDistricts() {
  const items = state.overview?.districts?.items;
  if (state.districts.length || !panelErrors.get('districts-error')?.size || !Array.isArray(items)) return false;
  state.districts = items.filter((d) => d && d.code);
  return true;
}

async function loadOverview() {
  try {
    state.overview = await api('/overview');
    if (Array.isArray(state.overview?.alerts)) state.alerts = state.overview.alerts.filter((a) => a && a.state !== 'resolved');
    setPanelError('alerts-error', null);
    if (useOverviewDistricts()) renderDistricts();
  } catch (error) {
    setPanelError('alerts-error', error);
  }
  renderPartial();
  renderAlerts();
  renderSummary();
}

async function loadDistricts() {
  try {
    state.districts = (await apiList('/districts')).filter((d) => d && d.code);
    setPanelError('districts-error', null);
  } catch (error) {
    setPanelError('districts-error', error);
    useOverviewDistricts();
  }
  renderDistricts();
  renderAlerts(); // alerts name their district
  renderSummary();
  if (cityMap) cityMap.restyleDistricts();
  if (trends) trends.setDistricts(state.districts);
}

// The NIL outlines change only with an import: loaded once per sign-in.
async function loadNils() {
  try {
    const outlines = await api('/nils.geojson');
    if (cityMap) cityMap.setNils(outlines);
    setPanelError('map-error', null, 'nils');
  } catch (error) {
    setPanelError('map-error', error, 'nils');
  }
}

async function loadGeojson() {
  try {
    state.geojson = await api('/districts.geojson');
    if (cityMap) cityMap.setDistricts(state.geojson);
    renderAlerts();
    setPanelError('map-error', null, 'perimeters');
  } catch (error) {
    setPanelError('map-error', error, 'perimeters');
  }
}

function applyMarkets(markets) {
  for (const market of markets) {
    if (market && market.id) state.markets.set(market.id, market);
  }
}

async function loadMarkets() {
  try {
    const markets = await apiList('/markets');
    state.markets.clear();
    applyMarkets(markets);
    state.marketsLoaded = true;
    panelErrors.delete('markets-error');
    renderPanelError('markets-error');
    if (cityMap) cityMap.setMarkets(state.markets.values());
  } catch (error) {
    setPanelError('markets-error', error);
  }
  renderMarkets();
  renderSummary();
}

async function loadMarket(id) {
  const epoch = state.marketEpoch.get(id) || 0;
  try {
    const market = await api(`/markets/${encodeURIComponent(id)}`);
    // A newer event for this market arrived meanwhile; its own refetch is already scheduled.
    if ((state.marketEpoch.get(id) || 0) !== epoch || !market || !market.id) return;
    state.markets.set(market.id, market);
    updateMarketRow(market.id);
    renderSummary();
    setPanelError('markets-error', null, `market:${id}`);
  } catch (error) {
    setPanelError('markets-error', error, `market:${id}`);
  }
}

async function loadShops(kind) {
  try {
    // every page: a register larger than one page must not lose shops from the map
    const features = await apiList('/shops', { format: 'geojson', kind });
    if (cityMap) cityMap.setShops(kind, { type: 'FeatureCollection', features });
    setPanelError('map-error', null, kind);
  } catch (error) {
    setPanelError('map-error', error, kind);
  }
}

// Refetches requested by live events, coalesced: 300 ms after the last event, at most 1 s after the first.
const pending = { markets: new Set(), allMarkets: false, districts: false, geojson: false, overview: false, shops: false };
let flushTimer = null;
let firstRequestAt = 0;

function schedule(parts) {
  for (const part of parts) {
    if (part.startsWith('market:')) pending.markets.add(part.slice(7));
    else pending[part] = true;
  }
  const now = Date.now();
  if (!flushTimer) firstRequestAt = now;
  clearTimeout(flushTimer);
  flushTimer = setTimeout(flush, Math.min(REFETCH_DEBOUNCE_MS, Math.max(0, firstRequestAt + REFETCH_MAX_WAIT_MS - now)));
}

function flush() {
  flushTimer = null;
  const jobs = [];
  if (pending.allMarkets) jobs.push(loadMarkets());
  else for (const id of pending.markets) jobs.push(loadMarket(id));
  if (pending.overview) jobs.push(loadOverview());
  if (pending.districts) jobs.push(loadDistricts());
  if (pending.geojson) jobs.push(loadGeojson());
  if (pending.shops) jobs.push(loadShops('kiosk'), loadShops('historic'));
  Object.assign(pending, { markets: new Set(), allMarkets: false, districts: false, geojson: false, overview: false, shops: false });
  Promise.allSettled(jobs).then(touched);
}

async function loadAll() {
  await Promise.allSettled([
    loadOverview(), loadDistricts(), loadGeojson(), loadNils(), loadMarkets(), loadShops('kiosk'), loadShops('historic'),
  ]);
  touched();
}

// ---------------------------------------------------------------- live events

// Stall events: data {market_id, number, from, to, ...}; the subject is "<market_id>/<number>".
// assigned/released carry the resulting status in `status` instead of from/to.
function stallChange(ce) {
  const data = ce && typeof ce.data === 'object' && ce.data ? ce.data : {};
  const subject = typeof ce?.subject === 'string' ? ce.subject : '';
  const slash = subject.indexOf('/');
  return {
    marketId: data.market_id ?? (slash > 0 ? subject.slice(0, slash) : null),
    number: data.number ?? (slash > 0 ? subject.slice(slash + 1) : null),
    from: data.from ?? null,
    to: data.to ?? data.status ?? null,
  };
}

// Applies a stall status change to the market's counters straight from the event, so the row
// changes at once; the refetch that follows replaces the numbers with the authoritative ones.
// occupancy_rate is the share of stalls that are not vacant (api.md), so it follows the vacant count.
function applyStallChange({ marketId, from, to }) {
  const market = state.markets.get(marketId);
  if (!market) return false;
  const occ = occupancyOf(market);
  const known = STATUSES.includes(from) && STATUSES.includes(to) && from !== to;
  if (!known || !isNum(occ.by_status[from]) || occ.by_status[from] < 1) return false;
  const byStatus = { ...occ.by_status, [from]: occ.by_status[from] - 1, [to]: (occ.by_status[to] ?? 0) + 1 };
  const next = { ...occ, by_status: byStatus, open_now: byStatus.open };
  if (isNum(occ.stalls_total) && occ.stalls_total > 0 && isNum(byStatus.vacant)) {
    next.occupancy_rate = (occ.stalls_total - byStatus.vacant) / occ.stalls_total;
  }
  state.markets.set(marketId, { ...market, occupancy: next });
  updateMarketRow(marketId, { flash: true });
  renderSummary();
  return true;
}

// Alert events carry alert_id (the alert resource calls it id).
function applyAlertEvent(type, data) {
  const id = data.alert_id ?? data.id;
  if (!id) return;
  const others = state.alerts.filter((a) => a.id !== id);
  if (type.startsWith('districts.alert.raised')) {
    state.alerts = [...others, { ...data, id, state: 'open', raised_at: data.raised_at ?? data.at }];
  } else if (type.startsWith('districts.alert.resolved')) {
    state.alerts = others;
  } else return;
  renderAlerts();
  renderSummary();
}

// districts.kpis.updated carries the district's new KPIs; false when the district is not known yet.
function applyKpis(data) {
  const district = districtByCode(data.district);
  if (!district) return false;
  if (data.kpis && typeof data.kpis === 'object') {
    const kpis = { ...kpisOf(district), ...data.kpis };
    const vitality = isNum(data.kpis.vitality_index) && district.vitality
      ? { ...district.vitality, index: data.kpis.vitality_index }
      : district.vitality;
    state.districts = state.districts.map((d) => (d === district ? { ...district, kpis, vitality } : d));
    renderDistricts();
    if (cityMap) cityMap.restyleDistricts();
    if (trends) trends.kpisChanged(data.district);
  }
  return true;
}

function remember(eventId) {
  if (!eventId) return true;
  if (state.seen.has(eventId)) return false;
  state.seen.add(eventId);
  state.seenOrder.push(eventId);
  if (state.seenOrder.length > SEEN_EVENTS) state.seen.delete(state.seenOrder.shift());
  return true;
}

function handleMessage(message) {
  let ce = null;
  try {
    ce = JSON.parse(message.data);
  } catch {
    ce = null;
  }
  const type = (ce && typeof ce.type === 'string' && ce.type) || message.type;
  if (!remember((ce && ce.id) || message.id)) return;
  state.feed.unshift({ at: new Date(), type, ce });
  state.feed.length = Math.min(state.feed.length, FEED_SIZE);
  renderFeed();

  if (type.startsWith('markets.stall.')) {
    const change = stallChange(ce);
    if (change.marketId) {
      state.marketEpoch.set(change.marketId, (state.marketEpoch.get(change.marketId) || 0) + 1);
      if (type === 'markets.stall.status_changed.v1') applyStallChange(change);
      schedule([state.markets.has(change.marketId) ? `market:${change.marketId}` : 'allMarkets', 'overview', 'districts']);
    } else {
      schedule(['allMarkets', 'overview', 'districts']);
    }
  } else if (type.startsWith('markets.call.')) {
    callEvent(ce);
  } else if (type.startsWith('markets.concession.') || type.startsWith('markets.space.')) {
    concessionEvent(type);
  } else if (type.startsWith('markets.market.')) {
    schedule(['allMarkets', 'overview', 'districts']);
  } else if (type.startsWith('districts.')) {
    const data = ce && typeof ce.data === 'object' && ce.data ? ce.data : {};
    const parts = ['districts', 'overview'];
    if (type.startsWith('districts.alert.')) applyAlertEvent(type, data);
    else if (type.startsWith('districts.kpis.') && !applyKpis(data)) parts.push('geojson');
    schedule(parts);
    districtEvent(type, data);
  } else if (type.startsWith('shops.')) {
    const changesMap = type.startsWith('shops.shop.') || type.startsWith('shops.historic.');
    schedule(['districts', 'overview', ...(changesMap ? ['shops'] : [])]);
    if (changesMap) recognitionEvent();
  }
}

function setLiveState(liveState) {
  const el = $('#live-status');
  el.dataset.state = liveState;
  $('#live-status-text').textContent = t(`live.${liveState}`);
}

// ---------------------------------------------------------------- wiring

function ensureMap() {
  if (cityMap) {
    cityMap.refreshSize();
    return;
  }
  cityMap = new CityMap($('#map'), mapHooks);
  for (const box of document.querySelectorAll('[data-layer]')) {
    box.addEventListener('change', () => cityMap.setVisible(box.dataset.layer, box.checked));
  }
}

function startDashboard(me) {
  const notice = $('#role-notice');
  const content = $('#dashboard-content');
  if (me.role !== 'commerce_office') {
    notice.hidden = false;
    content.hidden = true;
    return;
  }
  notice.hidden = true;
  workspace.enter();
  ensureMap();
  if (!trends) trends = new DistrictTrends($('#trends'));
  renderSummary();
  renderAlerts();
  renderFeed();
  renderDistricts();
  renderMarkets();
  loadAll();
  stream = new LiveStream({
    url: '/api/v1/stream',
    getToken: freshToken,
    onEvent: handleMessage,
    onState: setLiveState,
    onUnauthorized: () => session.expire(),
    onConnected: (isReconnect) => {
      // Events may have been missed while disconnected: bring everything up to date.
      if (isReconnect) schedule(['allMarkets', 'overview', 'districts', 'shops']);
    },
  });
  stream.start();
  safetyTimer = setInterval(() => schedule(['allMarkets', 'overview', 'districts']), SAFETY_REFRESH_MS);
  clockTimer = setInterval(renderAlerts, 60 * 1000);
}

function stopDashboard() {
  workspace.leave();
  stopCalls();
  stopRecognitions();
  stopAccounts();
  stopDistricts();
  stopData();
  stopAudit();
  stopCategories();
  stopInterventions();
  stopConcessions();
  if (stream) stream.stop();
  stream = null;
  clearInterval(safetyTimer);
  clearInterval(clockTimer);
  clearTimeout(flushTimer);
  flushTimer = null;
  setLiveState('stopped');
  state.markets.clear();
  state.marketsLoaded = false;
  state.districts = [];
  state.alerts = [];
  state.overview = null;
  state.feed = [];
  if (trends) trends.setDistricts([]);
  panelErrors.clear();
  for (const id of PANELS) renderPanelError(id);
  renderPartial();
}

const session = setupSession({ onSignedIn: startDashboard, onSignedOut: stopDashboard });
// The office's workspace: the overview above, and the sections where it acts.
const workspace = setupWorkspace({
  panoramica: () => cityMap?.refreshSize(),
  bandi: showCalls,
  riconoscimenti: showRecognitions,
  account: () => {
    showAccounts();
    showAudit();
  },
  distretti: showDistricts,
  dati: showData,
  interventi: showInterventions,
  concessioni: showConcessions,
}, { sectionOf: (hash) => districtsSectionOf(hash) || interventionsSectionOf(hash) });
setupCalls();
setupRecognitions();
setupAccounts();
setupDistricts();
setupData();
setupAudit();
setupCategories();
setupInterventions();
setupConcessions();

onLangChange(() => {
  session.retranslate();
  if ($('#app-view').hidden) return;
  const live = $('#live-status').dataset.state;
  $('#live-status-text').textContent = t(`live.${live}`);
  renderSummary();
  renderPartial();
  renderAlerts();
  renderFeed();
  renderDistricts();
  renderMarkets();
  if (cityMap) cityMap.refreshLabels();
  if (trends) trends.refresh();
  for (const id of PANELS) renderPanelError(id);
  retranslateCalls();
  retranslateRecognitions();
  retranslateAccounts();
  retranslateDistricts();
  retranslateData();
  retranslateAudit();
  retranslateCategories();
  retranslateInterventions();
  retranslateConcessions();
});

await initI18n();
setLiveState('stopped');
session.start();
