// The office's audit log: who did what, to what, when — account changes, registrations, imports
// and every write the office sent to the services — filtered by person and days, a page at a time,
// and downloadable as CSV with the same filters (the CSV keeps the API's own words: the route of a
// write, its JSON before and after).
//
// The API records an office write by its route ("POST /markets/{market_id}/calls") and what it
// acted on by its path ("/markets/wagner/calls"); the page says it in words ("Bando pubblicato
// (mercato Wagner)"), from the table of routes below, and sums up what changed field by field
// ("Orari: Lun–Sab 06:30–13:00"), the whole of it a click away.

import { ApiError, api, apiFile, apiList } from './api.js';
import { $, h, keepFocus } from './dom.js';
import { DASH, calendarDay, dateTime, fileSize, num, weekday } from './format.js';
import { dataTable, errorPanel, sayer, setFieldError, showProblem, startSubmit } from './forms.js';
import { t, tOr } from './i18n.js';

const PAGE = 25;
const URL_LIFETIME_MS = 60_000;

const state = { shown: false, offset: 0, total: 0, items: [], filter: {}, open: new Set(), asked: 0 };

const say = sayer('#accounts-message');
const setError = errorPanel('#audit-error');

// ---------------------------------------------------------------- what was done, in words

// Every office write the gateway relays to a service, by method and route: its text is
// audit_route.<key>; the {names} say what each segment of the path is (audit_subject.<name>), and
// the first names what the action is about. Routes match by shape, whatever a service calls the
// parameters. A route missing here still reads as "Modifica" and the like, with its path.
export const ROUTES = {
  'POST /markets': 'market.create',
  'PATCH /markets/{market}': 'market.update',
  'POST /markets/{market}/stalls': 'stall.create',
  'PUT /markets/{market}/stalls/{stall}/status': 'stall.status',
  'POST /markets/{market}/stalls/{stall}/assignment': 'stall.assign',
  'DELETE /markets/{market}/stalls/{stall}/assignment': 'stall.unassign',
  'POST /markets/{market}/calls': 'call.publish',
  'POST /calls/{call}/applications': 'call.apply',
  'POST /calls/{call}/evaluations': 'call.evaluate',
  'POST /calls/{call}/award': 'call.award',
  'POST /markets/{market}/spunta/{day}/candidates': 'spunta.candidate',
  'POST /markets/{market}/spunta/{day}/assign': 'spunta.assign',
  'POST /markets/{market}/spaces': 'space.create',
  'POST /markets/{market}/spaces/{space}/bookings': 'booking.create',
  'DELETE /markets/{market}/spaces/{space}/bookings/{booking}': 'booking.cancel',
  'POST /concessions/{concession}/renew': 'concession.renew',
  'POST /concessions/{concession}/transfer': 'concession.transfer',
  'POST /concessions/{concession}/revoke': 'concession.revoke',
  'POST /shops': 'shop.create',
  'PUT /shops/{shop}': 'shop.replace',
  'PATCH /shops/{shop}': 'shop.update',
  'PUT /shops/{shop}/status': 'shop.status',
  'POST /shops/{shop}/recognition': 'shop.recognition',
  'POST /shops/{shop}/recognition/decision': 'shop.recognition_decision',
  'POST /shops/{shop}/services': 'shop.service_add',
  'PUT /shops/{shop}/services/{service}': 'shop.service_update',
  'DELETE /shops/{shop}/services/{service}': 'shop.service_remove',
  'POST /shops/{shop}/closures': 'shop.closure_add',
  'DELETE /shops/{shop}/closures/{closure}': 'shop.closure_remove',
  'POST /shops/{shop}/documents': 'shop.document',
  'POST /districts': 'district.create',
  'PUT /districts/{district}': 'district.update',
  'PUT /districts/{district}/thresholds': 'district.thresholds',
  'POST /districts/{district}/alerts/{alert}/acknowledge': 'alert.acknowledge',
  'POST /districts/rebuild': 'district.rebuild',
  'POST /nils': 'nil.create',
  'PUT /nils/{nil}/baseline': 'nil.baseline',
  'POST /interventions': 'intervention.create',
};

const shapeOf = (route) => route.replace(/\{[^}]*\}/g, '{}');
const BY_SHAPE = new Map(Object.entries(ROUTES).map(([route, key]) => [shapeOf(route), { route, key }]));

// The names of markets and districts, read once, so the log says "mercato Wagner", "DUC Brera".
let names = null;

function loadNames() {
  names ??= Promise.all([apiList('/markets'), apiList('/districts')])
    .then(([markets, districts]) => ({
      market: new Map(markets.filter((m) => m?.id && m.name).map((m) => [m.id, m.name])),
      district: new Map(districts.filter((d) => d?.code && d.name).map((d) => [d.code, d.name])),
    }))
    .catch(() => {
      names = null; // asked again next time
      return null;
    });
  return names;
}

let known = { market: new Map(), district: new Map() };

// A value of the API in the page's words when the dictionary has it, else the value itself.
function word(prefix, value) {
  const key = `${prefix}.${value}`;
  const said = t(key);
  return said === key ? String(value) : said;
}

// "mercato Wagner", "negozio ed-demo-isola"; a market or district by its name when it says what it
// is ("Mercato Comunale Coperto Wagner", "DUC Brera").
function subject(name, value) {
  const called = known[name]?.get(value);
  if (called && (name === 'district' || /^mercato\b/i.test(called))) return called;
  const shown = name === 'market' ? called || value
    : name === 'service' ? word('service_type', value)
      : name === 'day' ? calendarDay(value)
        : value;
  return t(`audit_subject.${name}`, { name: shown });
}

// A route's write, read: {key, parts: [[name, value], …]} or null for a route the table lacks.
function relayed(entry) {
  const [method, route] = String(entry.action || '').split(' ', 2);
  if (!route || !route.startsWith('/')) return null;
  const found = BY_SHAPE.get(shapeOf(`${method} ${route}`));
  if (!found) return { key: null, method, parts: [] };
  const pattern = found.route.split(' ', 2)[1].split('/');
  const path = String(entry.target || '').split('/');
  const parts = [];
  pattern.forEach((segment, i) => {
    const name = /^\{(\w+)\}$/.exec(segment)?.[1];
    if (name && path[i]) parts.push([name, safeDecode(path[i])]);
  });
  return { key: found.key, method, parts };
}

function safeDecode(segment) {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

// What a creation was about, from what it sent (a new market's name, a shop's id…).
function created(entry) {
  const sent = entry.after && typeof entry.after === 'object' ? entry.after : {};
  const named = [sent.name, sent.title, sent.id, sent.code].find((v) => typeof v === 'string' && v);
  return named || '';
}

// The Azione and Su cosa columns of an entry.
function described(entry) {
  const write = relayed(entry);
  if (!write) return { action: tOr('audit_action', entry.action), target: targetText(entry.target) };
  if (!write.key) return { action: t(`audit_route.other.${write.method}`), target: entry.target || DASH };
  const about = write.parts.map(([name, value]) => subject(name, value));
  const main = about[0] || created(entry);
  const label = t(`audit_route.${write.key}`);
  return { action: main ? `${label} (${main})` : label, target: about.join(' · ') || created(entry) || DASH };
}

// A gateway entry's target: an account's username, or "registration:<id>", "import:<id>".
function targetText(target) {
  const [kind, id] = String(target || '').split(/:(.*)/s, 2);
  if (id && ['registration', 'import'].includes(kind)) return t(`audit_subject.${kind}`, { name: id });
  return target || DASH;
}

// ---------------------------------------------------------------- what changed, in words

const SHORT = 120;
const LONG_TEXT = 60;
const FEW = 6;

// Fields whose values the page has words for.
const WORDS = { role: 'role', service: 'service_type', kind: 'shop_kind', condition: 'condition' };

function isHours(value) {
  return Array.isArray(value) && value.length > 0 && value.every((x) => x && typeof x === 'object' && Number.isInteger(x.day) && x.opens && x.closes);
}

// A week of hours: "Lun–Sab 06:30–13:00, 15:00–19:30; Dom 07:00–12:30".
function hoursText(hours) {
  const byDay = new Map();
  for (const span of [...hours].sort((a, b) => a.day - b.day || String(a.opens).localeCompare(String(b.opens)))) {
    byDay.set(span.day, [...(byDay.get(span.day) || []), `${span.opens}–${span.closes}`]);
  }
  const runs = [];
  for (const [day, spans] of byDay) {
    const text = spans.join(', ');
    const last = runs.at(-1);
    if (last && last.text === text && last.to === day - 1) last.to = day;
    else runs.push({ from: day, to: day, text });
  }
  return runs
    .map((r) => `${weekday(r.from, 'short')}${r.to > r.from ? `–${weekday(r.to, 'short')}` : ''} ${r.text}`)
    .join('; ');
}

function shorten(text, whole) {
  return whole || text.length <= LONG_TEXT ? text : `${text.slice(0, LONG_TEXT)}…`;
}

function valueText(value, field, ctx, whole) {
  if (value === null || value === undefined || value === '') return DASH;
  if (field === 'disabled' && typeof value === 'boolean') return t(value ? 'accounts.disabled' : 'accounts.active');
  if (typeof value === 'boolean') return t(value ? 'audit.yes' : 'audit.no');
  if (typeof value === 'number') return field === 'bytes' ? fileSize(value) : num(value, 6);
  if (typeof value === 'string') {
    if (field === 'status') return word(ctx.shop ? 'shop_status' : 'status', value);
    if (field === 'state' && ctx.job) return word('job_state', value);
    if (field === 'state' && ctx.registration) return word('audit_state', value);
    if (WORDS[field]) return word(WORDS[field], value);
    if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value)) return dateTime(value);
    if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return calendarDay(value);
    return shorten(value, whole);
  }
  if (isHours(value)) return hoursText(value);
  if (Array.isArray(value)) {
    if (!value.length) return t('audit.nothing');
    if (value.some((v) => v && typeof v === 'object')) {
      return whole ? value.map((v) => valueText(v, field, ctx, true)).join(' · ') : t('audit.items', { n: num(value.length) });
    }
    const shown = (whole ? value : value.slice(0, FEW)).map((v) => valueText(v, field, ctx, whole)).join(', ');
    return value.length > FEW && !whole ? `${shown} ${t('audit.more', { n: num(value.length - FEW) })}` : shown;
  }
  if (typeof value === 'object') {
    const parts = Object.entries(value).map(([k, v]) => `${fieldName(k)} ${valueText(v, k, ctx, whole)}`);
    return parts.join(', ') || DASH;
  }
  return String(value);
}

function fieldName(key) {
  return tOr('audit_field', key);
}

// An account's role with what it covers: "Operatore di mercato, mercato Wagner".
function roleText(role, scope) {
  const said = tOr('role', role);
  if (!scope) return said;
  const scoped = role === 'market_operator' ? subject('market', scope) : role === 'shopkeeper' ? subject('shop', scope) : scope;
  return `${said}, ${scoped}`;
}

// [[label, text], …] for one side of a change.
function lines(value, ctx, whole) {
  const out = [];
  for (const [key, v] of Object.entries(value)) {
    if (key === 'scope' && 'role' in value) continue;
    if (key === 'role') out.push([fieldName('role'), roleText(v, value.scope)]);
    else out.push([fieldName(key), valueText(v, key, ctx, whole)]);
  }
  return out;
}

// What an entry changed, summed up in a line ("Ruolo: Operatore di mercato, mercato Wagner");
// a long one shows its beginning and opens to every field in full.
function changes(value, entry, which) {
  if (!value || typeof value !== 'object') return DASH;
  const ctx = { shop: / \/shops\b/.test(String(entry.action || '')), job: entry.action === 'import.run', registration: String(entry.action || '').startsWith('registration.') };
  const short = lines(value, ctx, false);
  if (!short.length) return DASH;
  const text = short.map(([label, v]) => `${label}: ${v}`).join('; ');
  const full = lines(value, ctx, true);
  const same = full.every(([, v], i) => v === short[i][1]);
  if (text.length <= SHORT && same) return text;
  const id = `${entry.id}-${which}`;
  return h(
    'details',
    { open: state.open.has(id), ontoggle: (event) => (event.currentTarget.open ? state.open.add(id) : state.open.delete(id)) },
    h('summary', { 'data-focus-key': `audit-${id}`, text: text.length > SHORT ? `${text.slice(0, SHORT)}…` : text }),
    h('ul', { class: 'audit-full plain-list' }, full.map(([label, v]) => h('li', {}, h('strong', { text: `${label}: ` }), v))),
  );
}

// ---------------------------------------------------------------- loading and drawing

function dayStart(value, next = false) {
  // A calendar day typed in the form, as the instant it starts where the office is; `next` gives the
  // start of the following day (the API's `to` is exclusive, the person means "up to that day").
  if (!value) return null;
  const day = new Date(`${value}T00:00:00`);
  if (Number.isNaN(day.getTime())) return null;
  if (next) day.setDate(day.getDate() + 1);
  return day.toISOString();
}

function query(extra = {}) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries({ ...state.filter, ...extra })) if (value !== null && value !== '') params.set(key, String(value));
  return params.toString();
}

function readFilter() {
  const actor = $('#audit-actor').value.trim();
  return { actor, from: dayStart($('#audit-from').value), to: dayStart($('#audit-to').value, true) };
}

// Reads the page the filters and offset name; an answer overtaken by a later request is dropped.
async function load() {
  const asked = ++state.asked;
  try {
    const [page, found] = await Promise.all([api(`/audit?${query({ limit: PAGE, offset: state.offset })}`), loadNames()]);
    if (asked !== state.asked) return false;
    if (found) known = found;
    state.items = Array.isArray(page?.items) ? page.items : [];
    state.total = Number.isFinite(page?.total) ? page.total : state.items.length;
    setError(null);
    return true;
  } catch (error) {
    if (asked !== state.asked) return false;
    if (error instanceof ApiError && error.status === 422) {
      showProblem($('#audit-filter'), error, $('#audit-filter-message'), say);
      return false;
    }
    setError(error);
    return false;
  } finally {
    if (asked === state.asked) render();
  }
}

function render() {
  const heads = ['audit.col.at', 'audit.col.actor', 'audit.col.action', 'audit.col.target', 'audit.col.before', 'audit.col.after', 'audit.col.address'];
  keepFocus(() => dataTable($('#audit-table'), {
    caption: t('audit.caption', { from: num(state.items.length ? state.offset + 1 : 0), to: num(state.offset + state.items.length), total: num(state.total) }),
    heads: heads.map((key) => t(key)),
    rows: state.items.map((e) => {
      const { action, target } = described(e);
      return h(
        'tr',
        { 'data-testid': 'audit-row' },
        h('th', { scope: 'row', text: dateTime(e.at) }),
        h('td', { text: e.actor }),
        h('td', { class: 'audit-action', text: action }),
        h('td', { class: 'audit-target', text: target }),
        h('td', { class: 'audit-change' }, changes(e.before, e, 'before')),
        h('td', { class: 'audit-change' }, changes(e.after, e, 'after')),
        h('td', { text: e.address || DASH }),
      );
    }),
    empty: t('audit.none'),
  }));
  $('#audit-previous').disabled = state.offset === 0;
  $('#audit-next').disabled = state.offset + state.items.length >= state.total;
}

async function filter(event) {
  const form = $('#audit-filter');
  startSubmit(event, form, $('#audit-filter-message'));
  const from = $('#audit-from');
  const to = $('#audit-to');
  if (from.value && to.value && to.value < from.value) {
    setFieldError(to, t('audit.to_before_from'));
    to.focus();
    return;
  }
  state.filter = readFilter();
  state.offset = 0;
  if (await load()) say('info', t('audit.found', { n: num(state.total) }));
}

async function download() {
  try {
    const file = await apiFile(`/audit.csv?${query()}`);
    const url = URL.createObjectURL(file.blob);
    const link = h('a', { href: url, download: file.filename || 'audit.csv', hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), URL_LIFETIME_MS);
    say('success', t('audit.downloaded'));
  } catch (error) {
    setError(error);
  }
}

async function turn(step) {
  state.offset = Math.max(0, state.offset + step * PAGE);
  await load();
  $('#audit-title').focus();
}

export function setupAudit() {
  $('#audit-filter').addEventListener('submit', filter);
  $('#audit-download').addEventListener('click', download);
  $('#audit-previous').addEventListener('click', () => turn(-1));
  $('#audit-next').addEventListener('click', () => turn(1));
}

export function showAudit() {
  state.shown = true;
  load();
}

// Reads the log again after the office acted on this page (an account changed, a registration
// decided): the same filters and page, the focus where it was, no message of its own.
export function refreshAudit() {
  if (state.shown) return load();
  return Promise.resolve(false);
}

export function stopAudit() {
  state.shown = false;
  state.items = [];
  state.total = 0;
  state.offset = 0;
  state.open.clear();
}

export function retranslateAudit() {
  if (state.items.length || state.total) render();
}
