// The daily spunta on the operator page: register the traders present on a day, assign the stalls
// of absent holders and the free ones, and show who got which stall. Refusals come from the API in
// the page's language (Accept-Language); the screen's own words come from the i18n files.

import { ApiError, api, errorMessage } from './api.js';
import { $, clear, h } from './dom.js';
import { sayer } from './forms.js';
import { currentLang, t } from './i18n.js';

const state = { marketId: null, candidates: [], result: null, busy: false };

function isoToday() {
  const now = new Date();
  const pad = (n) => String(n).padStart(2, '0');
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

const day = () => $('#spunta-date').value || isoToday();
const dayPath = () => `/markets/${encodeURIComponent(state.marketId)}/spunta/${encodeURIComponent(day())}`;
const call = (path, options = {}) =>
  api(path, { ...options, headers: { 'Accept-Language': currentLang(), ...(options.headers || {}) } });

const say = sayer('#spunta-message');

function render() {
  const assigned = Boolean(state.result);
  clear(
    $('#spunta-candidates'),
    state.candidates.length
      ? state.candidates.map((c) => h('li', { 'data-testid': `spunta-candidate-${c.trader}`, text: c.trader }))
      : [h('li', { class: 'empty', text: t('spunta.none_present') })],
  );
  $('#spunta-register').disabled = assigned || state.busy;
  $('#spunta-trader').disabled = assigned;
  $('#spunta-assign').disabled = assigned || state.busy;
  $('#spunta-absent').disabled = assigned;
  const box = $('#spunta-result');
  if (!assigned) {
    clear(box, h('p', { class: 'muted small', text: t('spunta.not_assigned') }));
    return;
  }
  clear(box, ...resultView(state.result));
}

// The day's result as everyone reads it: who got which stall (a table) and who got none. `me`:
// the reader's own username, their row marked.
export function resultView(result, me = null) {
  const { assignments, unassigned } = result;
  return [
    h('h3', { id: 'spunta-result-title', text: t('spunta.result_title', { date: result.date }) }),
    assignments.length
      ? h(
          'table',
          { class: 'spunta-table', 'data-testid': 'spunta-assignments' },
          h('caption', { class: 'visually-hidden', text: t('spunta.result_title', { date: result.date }) }),
          h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: t('spunta.trader') }), h('th', { scope: 'col', text: t('spunta.stall') }))),
          h(
            'tbody',
            {},
            assignments.map((a) =>
              h(
                'tr',
                { 'data-testid': `spunta-got-${a.trader}`, class: a.trader === me ? 'own-row' : null, 'aria-current': a.trader === me ? 'true' : null },
                h('td', { text: a.trader }),
                h('td', { text: a.stall }),
              ),
            ),
          ),
        )
      : h('p', { text: t('spunta.no_stalls') }),
    unassigned.length
      ? h('p', { 'data-testid': 'spunta-unassigned', text: t('spunta.unassigned', { traders: unassigned.join(', ') }) })
      : null,
  ];
}

async function load() {
  if (!state.marketId) return;
  const marketId = state.marketId;
  const wanted = day();
  try {
    const [candidates, result] = await Promise.all([
      call(`${dayPath()}/candidates`),
      call(dayPath()).catch((error) => {
        if (error instanceof ApiError && error.status === 404) return null;
        throw error;
      }),
    ]);
    if (marketId !== state.marketId || wanted !== day()) return;
    state.candidates = Array.isArray(candidates) ? candidates : [];
    state.result = result;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return;
    state.candidates = [];
    state.result = null;
    say('error', errorMessage(error));
  }
  render();
}

async function register(event) {
  event.preventDefault();
  const input = $('#spunta-trader');
  const trader = input.value.trim();
  if (!trader) {
    say('error', t('spunta.trader_missing'));
    input.focus();
    return;
  }
  state.busy = true;
  render();
  try {
    const candidate = await call(`${dayPath()}/candidates`, { method: 'POST', json: { trader } });
    if (!state.candidates.some((c) => c.trader === candidate.trader)) state.candidates.push(candidate);
    input.value = '';
    say('success', t('spunta.registered', { trader: candidate.trader }));
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) say('error', errorMessage(error));
  }
  state.busy = false;
  render();
  input.focus();
}

async function assign() {
  const absent = $('#spunta-absent')
    .value.split(/[\s,;]+/)
    .map((s) => s.trim())
    .filter(Boolean);
  state.busy = true;
  render();
  say('info', t('spunta.assigning'));
  try {
    state.result = await call(`${dayPath()}/assign`, { method: 'POST', json: { absent } });
    say('success', t('spunta.assigned', { n: state.result.assignments.length }));
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) say('error', errorMessage(error));
  }
  state.busy = false;
  render();
  $('#spunta-result').focus();
}

export function setupSpunta() {
  const input = $('#spunta-date');
  input.value = isoToday();
  input.max = isoToday();
  input.addEventListener('change', () => {
    say(null, '');
    load();
  });
  $('#spunta-form').addEventListener('submit', register);
  $('#spunta-assign').addEventListener('click', assign);
  return {
    show(marketId) {
      state.marketId = marketId;
      state.candidates = [];
      state.result = null;
      say(null, '');
      render();
      return load();
    },
    retranslate: render,
  };
}
