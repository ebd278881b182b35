// The office's audit log: who did what, to what, when — account changes, registrations, imports
// and every write the office sent to the services — filtered by person and days, a page at a time,
// and downloadable as CSV with the same filters.

import { ApiError, api, apiFile } from './api.js';
import { $, h, keepFocus } from './dom.js';
import { DASH, dateTime, num } from './format.js';
import { dataTable, errorPanel, sayer, setFieldError, showProblem, startSubmit } from './forms.js';
import { t, tOr } from './i18n.js';

const PAGE = 25;
const URL_LIFETIME_MS = 60_000;

const state = { offset: 0, total: 0, items: [], filter: {} };

const say = sayer('#accounts-message');
const setError = errorPanel('#audit-error');

// A calendar day typed in the form, as the instant it starts where the office is; `next` gives the
// start of the following day (the API's `to` is exclusive, the person means "up to that day").
function dayStart(value, next = false) {
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

async function load() {
  try {
    const page = await api(`/audit?${query({ limit: PAGE, offset: state.offset })}`);
    state.items = Array.isArray(page?.items) ? page.items : [];
    state.total = Number.isFinite(page?.total) ? page.total : state.items.length;
    setError(null);
    return true;
  } catch (error) {
    if (error instanceof ApiError && error.status === 422) {
      showProblem($('#audit-filter'), error, $('#audit-filter-message'), say);
      return false;
    }
    setError(error);
    return false;
  } finally {
    render();
  }
}

const SHORT = 100;

// What an entry changed, as "field: value; …"; a long one (a week of opening hours) shows its
// beginning and opens to the whole text.
function changes(value) {
  if (!value || typeof value !== 'object') return DASH;
  const parts = Object.entries(value).map(([key, v]) => `${key}: ${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`);
  const text = parts.join('; ');
  if (!text) return DASH;
  if (text.length <= SHORT) return text;
  return h('details', {}, h('summary', { text: `${text.slice(0, SHORT)}…` }), h('p', { class: 'audit-full', text }));
}

function render() {
  const heads = ['audit.col.at', 'audit.col.actor', 'audit.col.action', 'audit.col.target', 'audit.col.before', 'audit.col.after', 'audit.col.address'];
  keepFocus(() => dataTable($('#audit-table'), {
    caption: t('audit.caption', { from: num(state.items.length ? state.offset + 1 : 0), to: num(state.offset + state.items.length), total: num(state.total) }),
    heads: heads.map((key) => t(key)),
    rows: state.items.map((e) =>
      h(
        'tr',
        { 'data-testid': 'audit-row' },
        h('th', { scope: 'row', text: dateTime(e.at) }),
        h('td', { text: e.actor }),
        h('td', { class: 'audit-action', text: tOr('audit_action', e.action) }),
        h('td', { class: 'audit-target', text: e.target || DASH }),
        h('td', { class: 'audit-change' }, changes(e.before)),
        h('td', { class: 'audit-change' }, changes(e.after)),
        h('td', { text: e.address || DASH }),
      ),
    ),
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
  load();
}

export function stopAudit() {
  state.items = [];
  state.total = 0;
  state.offset = 0;
}

export function retranslateAudit() {
  if (state.items.length || state.total) render();
}
