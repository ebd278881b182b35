// Citizens' page: the nearest points offering a service, open now or at a chosen time, on a map and
// as a list. Anonymous; the search lives in the URL (/near?service=…&lat=…&lon=…&open_at=…) so it
// can be linked, bookmarked and shared. The position never leaves the device except in the search.

import { errorMessage, publicApi } from './api.js';
import { $, clear, h } from './dom.js';
import { DASH, dateTime, num } from './format.js';
import { currentLang, initI18n, onLangChange, t } from './i18n.js';
import { COORD_DIGITS, devicePosition, parseCoord } from './position.js';

const LIMIT = 10;
const MILAN = [45.4642, 9.19];
// Beyond this distance from the Duomo a place is not in Milan (the city reaches about 10 km from
// it, its neighbouring towns a little further): the points found there would not be "near".
const MILAN_REACH_M = 30_000;
const EARTH_RADIUS_M = 6_371_008.8;

const state = {
  catalogue: [],
  nils: [],
  query: null, // {service, lat, lon, openAt}
  found: null, // {items, openAt, closedItems, suggestion} of the last search
  busy: false,
  error: null, // why the last search failed
  listsError: null, // why the catalogue could not be loaded (no search can be made then)
  refused: false, // the form's last search could not be made (what it found before is gone)
};

// ---------------------------------------------------------------- input

function queryFromUrl() {
  const params = new URLSearchParams(window.location.search);
  return {
    service: params.get('service') || '',
    lat: params.get('lat') || '',
    lon: params.get('lon') || '',
    openAt: params.get('open_at') || '',
  };
}

function fillForm(query) {
  if (query.service && state.catalogue.some((s) => s.code === query.service)) $('#near-service').value = query.service;
  $('#near-lat').value = query.lat;
  $('#near-lon').value = query.lon;
  $('#near-when').value = query.openAt;
}

// Great-circle metres between two [lat, lon] points.
function metresBetween([lat1, lon1], [lat2, lon2]) {
  const rad = Math.PI / 180;
  const h = Math.sin(((lat2 - lat1) * rad) / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(((lon2 - lon1) * rad) / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.sqrt(h));
}

// The form's values, checked; on a mistake the message names the field and focus goes there.
function readForm() {
  const service = $('#near-service').value;
  const lat = parseCoord($('#near-lat').value, -90, 90);
  const lon = parseCoord($('#near-lon').value, -180, 180);
  const openAt = $('#near-when').value;
  if (!service) return { problem: ['near-service', 'near.need_service'] };
  if ($('#near-lat').value.trim() === '' && $('#near-lon').value.trim() === '') {
    return { problem: ['near-locate', 'near.need_place'] };
  }
  if (lat === null) return { problem: ['near-lat', 'near.bad_lat'] };
  if (lon === null) return { problem: ['near-lon', 'near.bad_lon'] };
  const away = metresBetween(MILAN, [lat, lon]);
  if (away > MILAN_REACH_M) return { problem: ['near-lat', 'near.outside_milan', { km: num(away / 1000) }] };
  return { query: { service, lat, lon, openAt } };
}

function showFormProblem(problem) {
  const [field, key, vars] = problem || [];
  $('#near-form-message').textContent = key ? t(key, vars) : '';
  for (const id of ['near-service', 'near-lat', 'near-lon']) {
    if (id === field) $(`#${id}`).setAttribute('aria-invalid', 'true');
    else $(`#${id}`).removeAttribute('aria-invalid');
  }
  if (field === 'near-lat' || field === 'near-lon') $('#near-coords-box').open = true;
  if (field) $(`#${field}`).focus();
}

function urlOf(query) {
  const params = new URLSearchParams({ service: query.service, lat: String(query.lat), lon: String(query.lon) });
  if (query.openAt) params.set('open_at', query.openAt);
  return `/near?${params}`;
}

// ---------------------------------------------------------------- formatting

function serviceLabel(code) {
  const entry = state.catalogue.find((s) => s.code === code);
  if (!entry) return code;
  return currentLang() === 'en' ? entry.label_en : entry.label_it;
}

function distance(metres) {
  if (typeof metres !== 'number') return DASH;
  if (metres < 1000) return `${num(Math.round(metres / 10) * 10)} m`;
  return `${num(metres / 1000, 1)} km`;
}

function hoursText(ranges) {
  if (!Array.isArray(ranges) || ranges.length === 0) return t('near.closed_all_day');
  return ranges.map((r) => `${r.opens}–${r.closes}`).join(', ');
}

// "HH:MM" of the Milan local time the server checked the hours at (it answers with that offset).
function clockOf(isoLocal) {
  const match = /T(\d{2}:\d{2})/.exec(isoLocal || '');
  return match ? match[1] : null;
}

function dayOf(isoLocal) {
  const match = /^(\d{4}-\d{2}-\d{2})/.exec(isoLocal || '');
  return match ? match[1] : null;
}

function whenText() {
  if (!state.query?.openAt) return t('near.now');
  return t('near.at_time', { when: dateTime(state.found?.openAt || state.query.openAt) });
}

// When nothing is open: the first later opening that day among the closed points found.
function suggestionFrom(closedItems, checkedAt) {
  const clock = clockOf(checkedAt);
  const day = dayOf(checkedAt);
  if (!clock || !day) return null;
  let best = null;
  for (const item of closedItems) {
    for (const range of item.hours_today || []) {
      if (range.opens > clock && (!best || range.opens < best.opens)) best = { opens: range.opens, name: item.name };
    }
  }
  return best ? { ...best, openAt: `${day}T${best.opens}` } : null;
}

// ---------------------------------------------------------------- map

let nearMap = null;

class NearMap {
  constructor(element) {
    const L = window.L;
    this.L = L;
    this.map = L.map(element, { center: MILAN, zoom: 13, minZoom: 10, maxZoom: 18, zoomSnap: 0.25 });
    this.map.attributionControl.setPrefix(false);
    this.areas = L.geoJSON(null, { interactive: false, style: () => ({ className: 'near-area', weight: 1, fillOpacity: 0.25 }) });
    this.areas.addTo(this.map);
    this.points = L.layerGroup().addTo(this.map);
    this.markers = new Map();
    new ResizeObserver(() => this.map.invalidateSize()).observe(element);
  }

  setAreas(featureCollection) {
    const features = Array.isArray(featureCollection?.features) ? featureCollection.features : [];
    for (const feature of features) if (feature?.geometry) this.areas.addData(feature);
  }

  // Every text shown on the map is a text node: names and addresses are never read as HTML.
  show(query, items) {
    const L = this.L;
    this.points.clearLayers();
    this.markers.clear();
    const bounds = [[query.lat, query.lon]];
    items.forEach((item, i) => {
      const point = [item.location.lat, item.location.lon];
      const marker = L.circleMarker(point, {
        radius: 11,
        weight: 2,
        fillOpacity: 1,
        className: `near-marker ${item.open_now ? 'near-marker-open' : 'near-marker-closed'}`,
      });
      marker.bindTooltip(h('span', { text: `${i + 1}. ${item.name}` }), { direction: 'top' });
      marker.bindPopup(() => popupOf(item, i));
      marker.addTo(this.points);
      const el = marker.getElement();
      if (el) el.dataset.name = item.name;
      this.markers.set(item.service_id, marker);
      bounds.push(point);
    });
    // drawn last and smaller, so it stays visible on top of a point at the same place
    const you = L.circleMarker([query.lat, query.lon], { radius: 6, weight: 3, className: 'near-you', fillOpacity: 1 });
    you.bindTooltip(h('span', { text: t('near.you_are_here') }), { direction: 'top' });
    you.addTo(this.points);
    this.map.fitBounds(bounds, { padding: [28, 28], maxZoom: 16 });
  }

  clear() {
    this.points.clearLayers();
    this.markers.clear();
  }

  open(serviceId) {
    const marker = this.markers.get(serviceId);
    if (!marker) return;
    this.map.setView(marker.getLatLng(), Math.max(this.map.getZoom(), 15));
    marker.openPopup();
  }
}

function popupOf(item, i) {
  return h(
    'div',
    { class: 'popup' },
    h('p', { class: 'popup-title', text: `${i + 1}. ${item.name}` }),
    h('p', { text: item.address }),
    h(
      'dl',
      {},
      h('dt', { text: t('near.distance') }),
      h('dd', { text: distance(item.distance_m) }),
      h('dt', { text: t('near.hours_today') }),
      h('dd', { text: hoursText(item.hours_today) }),
    ),
  );
}

// ---------------------------------------------------------------- rendering

function renderServices() {
  const select = $('#near-service');
  const chosen = select.value || state.query?.service || '';
  clear(
    select,
    h('option', { value: '', text: t('near.service_none') }),
    state.catalogue.map((s) => h('option', { value: s.code, text: currentLang() === 'en' ? s.label_en : s.label_it })),
  );
  select.value = chosen;
}

function renderNils() {
  const select = $('#near-nil');
  const chosen = select.value;
  clear(
    select,
    h('option', { value: '', text: t('near.nil_none') }),
    state.nils.map((n) => h('option', { value: String(n.id), text: n.name })),
  );
  select.value = chosen;
  select.disabled = state.nils.length === 0;
}

function renderStatus() {
  const status = $('#near-status');
  const suggestion = $('#near-suggestion');
  suggestion.hidden = true;
  status.dataset.kind = 'info';
  if (state.busy) {
    status.textContent = t('near.searching');
    return;
  }
  const error = state.error || state.listsError;
  if (error) {
    status.dataset.kind = 'error';
    status.textContent = `${t('near.failed')} ${error}`;
    return;
  }
  const found = state.found;
  if (!found) {
    status.textContent = t(state.refused ? 'near.not_searched' : 'near.start');
    return;
  }
  const service = serviceLabel(state.query.service);
  if (found.items.length > 0) {
    status.textContent = t(found.items.length === 1 ? 'near.found_one' : 'near.found_many', {
      count: found.items.length,
      service,
      when: whenText(),
    });
    return;
  }
  status.dataset.kind = 'empty';
  const nothing = t('near.nothing_open', { service, when: whenText() });
  if (found.suggestion) {
    status.textContent = `${nothing} ${t('near.suggest', { time: found.suggestion.opens, name: found.suggestion.name })}`;
    $('#near-suggest-button').textContent = t('near.suggest_button', { time: found.suggestion.opens });
    suggestion.hidden = false;
  } else {
    status.textContent = `${nothing} ${t(found.closedItems.length ? 'near.suggest_other_day' : 'near.none_at_all')}`;
  }
}

function renderList() {
  const list = $('#near-list');
  const found = state.found;
  if (!found) {
    clear(list);
    nearMap?.clear();
    return;
  }
  const items = found.items.length ? found.items : found.closedItems;
  const hoursLabel = state.query.openAt ? t('near.hours_that_day') : t('near.hours_today');
  clear(
    list,
    items.map((item, i) =>
      h(
        'li',
        {
          class: `near-item${item.open_now ? '' : ' near-item-closed'}`,
          'data-testid': 'near-item',
          'data-distance': String(item.distance_m),
          'data-open': String(item.open_now),
        },
        h(
          'div',
          { class: 'near-item-head' },
          h('span', { class: 'near-rank', 'aria-hidden': 'true', text: String(i + 1) }),
          h('h3', { class: 'near-name', text: item.name }),
          h('span', {
            class: `near-badge ${item.open_now ? 'near-badge-open' : 'near-badge-closed'}`,
            text: item.open_now ? t('near.open') : t('near.closed'),
          }),
        ),
        h('p', { class: 'near-address', text: item.address }),
        h(
          'dl',
          { class: 'near-facts' },
          h('div', {}, h('dt', { text: t('near.distance') }), h('dd', { 'data-testid': 'near-distance', text: distance(item.distance_m) })),
          h('div', {}, h('dt', { text: hoursLabel }), h('dd', { 'data-testid': 'near-hours', text: hoursText(item.hours_today) })),
        ),
        h('button', {
          type: 'button',
          class: 'btn btn-small',
          text: t('near.show_on_map'),
          'aria-label': t('near.show_on_map_named', { name: item.name }),
          onclick: () => {
            nearMap?.open(item.service_id);
            $('#near-map').scrollIntoView({ block: 'nearest' });
          },
        }),
      ),
    ),
  );
  nearMap?.show(state.query, items);
}

function render() {
  renderStatus();
  renderList();
}

// ---------------------------------------------------------------- searching

let searchController = null;

async function search(query, { history = 'push' } = {}) {
  state.query = query;
  state.busy = true;
  state.error = null;
  state.refused = false;
  renderStatus();
  const url = urlOf(query);
  if (history === 'push' && url !== window.location.pathname + window.location.search) {
    window.history.pushState(null, '', url);
  } else if (history === 'replace') {
    window.history.replaceState(null, '', url);
  }
  searchController?.abort();
  const controller = new AbortController();
  searchController = controller;
  const params = new URLSearchParams({ service: query.service, lon: String(query.lon), lat: String(query.lat), limit: String(LIMIT) });
  if (query.openAt) params.set('open_at', query.openAt);
  try {
    const open = await publicApi(`/services/nearest?${params}`, { signal: controller.signal });
    let closedItems = [];
    let suggestion = null;
    if (!open.items.length) {
      params.set('open_only', 'false');
      const all = await publicApi(`/services/nearest?${params}`, { signal: controller.signal });
      closedItems = all.items;
      suggestion = suggestionFrom(closedItems, all.open_at);
    }
    state.found = { items: open.items, openAt: open.open_at, closedItems, suggestion };
  } catch (error) {
    if (error.name === 'AbortError') return;
    state.found = null;
    state.error = errorMessage(error);
  } finally {
    if (searchController === controller) state.busy = false;
  }
  if (searchController === controller) render();
}

// The form could not make a search: what the previous one found (and any search still running) goes,
// so the status and the list never answer a search other than the one the form now asks for.
function dropResults() {
  searchController?.abort();
  searchController = null;
  Object.assign(state, { found: null, error: null, busy: false, refused: true });
  render();
}

function searchFromForm() {
  const { query, problem } = readForm();
  if (problem) dropResults();
  showFormProblem(problem);
  if (query) search(query);
}

function setCoords(lat, lon) {
  $('#near-lat').value = lat.toFixed(COORD_DIGITS);
  $('#near-lon').value = lon.toFixed(COORD_DIGITS);
}

async function locate() {
  const button = $('#near-locate');
  button.disabled = true;
  $('#near-status').textContent = t('near.locating');
  try {
    const { lat, lon } = await devicePosition();
    $('#near-nil').value = '';
    setCoords(lat, lon);
    searchFromForm();
  } catch (error) {
    dropResults();
    showFormProblem(error.message === 'unsupported' ? [null, 'near.no_geolocation'] : ['near-locate', 'near.position_denied']);
  } finally {
    button.disabled = false;
  }
}

// A NIL stands for the middle of its perimeter.
async function chooseNil(id) {
  if (!id) return;
  try {
    const nil = await publicApi(`/nils/${encodeURIComponent(id)}`);
    const centre = window.L.geoJSON(nil.perimeter).getBounds().getCenter();
    setCoords(centre.lat, centre.lng);
    if ($('#near-service').value) searchFromForm();
  } catch (error) {
    $('#near-form-message').textContent = errorMessage(error);
  }
}

// ---------------------------------------------------------------- start

async function loadLists() {
  const [catalogue, nils, areas] = await Promise.allSettled([
    publicApi('/services/catalogue'),
    publicApi('/nils?limit=500'),
    publicApi('/districts.geojson'),
  ]);
  if (catalogue.status === 'fulfilled') state.catalogue = catalogue.value.items;
  else state.listsError = errorMessage(catalogue.reason);
  if (nils.status === 'fulfilled') {
    state.nils = [...nils.value.items].sort((a, b) => a.name.localeCompare(b.name, 'it'));
  }
  if (areas.status === 'fulfilled') nearMap?.setAreas(areas.value);
}

function registerServiceWorker() {
  if (!('serviceWorker' in navigator)) return;
  navigator.serviceWorker.register('/near-sw.js', { scope: '/near' }).catch(() => {
    // Without it the page still works; it only does not open offline.
  });
}

function runUrlSearch(history) {
  const query = queryFromUrl();
  fillForm(query);
  if (query.service && query.lat && query.lon) {
    const { query: checked, problem } = readForm();
    if (problem) dropResults();
    showFormProblem(problem);
    if (checked) search(checked, { history });
  } else {
    state.found = null;
    state.refused = false;
    render();
  }
}

async function start() {
  await initI18n();
  nearMap = new NearMap($('#near-map'));
  await loadLists();
  renderServices();
  renderNils();
  renderStatus();

  $('#near-form').addEventListener('submit', (event) => {
    event.preventDefault();
    searchFromForm();
  });
  $('#near-service').addEventListener('change', () => {
    if ($('#near-lat').value && $('#near-lon').value) searchFromForm();
  });
  $('#near-nil').addEventListener('change', (event) => chooseNil(event.target.value));
  $('#near-locate').addEventListener('click', locate);
  $('#near-suggest-button').addEventListener('click', () => {
    const suggestion = state.found?.suggestion;
    if (!suggestion) return;
    $('#near-when').value = suggestion.openAt;
    searchFromForm();
    $('#near-status').focus?.();
  });
  window.addEventListener('popstate', () => runUrlSearch('none'));
  onLangChange(() => {
    renderServices();
    renderNils();
    render();
  });

  runUrlSearch('replace');
  document.body.dataset.ready = 'true';
  registerServiceWorker();
}

start();
