// The daily spunta on the operator page: register the traders present on a day, assign the stalls
// of absent holders and the free ones, and show who got which stall. Refusals come from the API in
// the page's language (Accept-Language); the screen's own words come from the i18n files. The day
// is today in Milan or an earlier one: the spunta is held on the day.

import { ApiError, api, apiAnswer, errorMessage } from './api.js';
import { $, clear, h } from './dom.js';
import { calendarDay, romeToday, time } from './format.js';
import { USERNAME, clearFieldErrors, sayer, setFieldError, showInvalid, showProblem } from './forms.js';
import { currentLang, t } from './i18n.js';

const state = { marketId: null, candidates: [], result: null, busy: false, badDay: false };

const day = () => $('#spunta-date').value || romeToday();
const dayPath = () => `/markets/${encodeURIComponent(state.marketId)}/spunta/${encodeURIComponent(day())}`;
const withLang = (options) => ({ ...options, headers: { 'Accept-Language': currentLang(), ...(options.headers || {}) } });
const call = (path, options = {}) => api(path, withLang(options));

const say = sayer('#spunta-message');

function render() {
  const assigned = Boolean(state.result);
  const closed = assigned || state.badDay;
  const list = $('#spunta-candidates');
  clear(list, state.candidates.map((c) => h('li', { 'data-testid': `spunta-candidate-${c.trader}`, text: c.trader })));
  list.hidden = !state.candidates.length;
  $('#spunta-none').hidden = Boolean(state.candidates.length);
  $('#spunta-register').disabled = closed || state.busy;
  $('#spunta-trader').disabled = closed;
  $('#spunta-assign').disabled = closed || state.busy;
  $('#spunta-absent').disabled = closed;
  const box = $('#spunta-result');
  if (!assigned) {
    clear(box, state.badDay ? null : h('p', { class: 'muted small', text: t('spunta.not_assigned') }));
    return;
  }
  clear(box, ...resultView(state.result));
}

// The day's result as everyone reads it: who got which stall (a table) and who got none. `me`:
// the reader's own username, their row marked.
export function resultView(result, me = null) {
  const { assignments, unassigned } = result;
  const title = t('spunta.result_title', { date: calendarDay(result.date) });
  return [
    h('h3', { id: 'spunta-result-title', text: title }),
    assignments.length
      ? h(
          'table',
          { class: 'spunta-table', 'data-testid': 'spunta-assignments' },
          h('caption', { class: 'visually-hidden', text: title }),
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
  const form = event.currentTarget;
  const input = $('#spunta-trader');
  const message = $('#spunta-form-message');
  clearFieldErrors(form);
  message.textContent = '';
  say(null, '');
  const trader = input.value.trim();
  if (!trader || !USERNAME.test(trader)) {
    showInvalid([[input, t(trader ? 'spunta.trader_shape' : 'spunta.trader_missing')]], message, say);
    return;
  }
  state.busy = true;
  render();
  let refused = null;
  try {
    const { status, body: candidate } = await apiAnswer(`${dayPath()}/candidates`, withLang({ method: 'POST', json: { trader } }));
    if (!state.candidates.some((c) => c.trader === candidate.trader)) state.candidates.push(candidate);
    input.value = '';
    // 201: registered now; 200: the trader was already registered that day
    if (status === 201) say('success', t('spunta.registered', { trader: candidate.trader }));
    else say('info', t('spunta.already_registered', { trader: candidate.trader, time: () => time(candidate.registered_at) }));
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) refused = error;
  }
  state.busy = false;
  render();
  if (refused) showProblem(form, refused, message, say);
  else input.focus();
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

// A day after today (Milan) is refused by its field: the spunta is held on the day.
function markDay() {
  const input = $('#spunta-date');
  setFieldError(input, state.badDay ? t('spunta.date_future', { today: calendarDay(input.max) }) : '');
}

// The day picker: today in Milan or an earlier day.
function chooseDay() {
  const input = $('#spunta-date');
  input.max = romeToday();
  say(null, '');
  clearFieldErrors($('#spunta-form'));
  state.candidates = [];
  state.result = null;
  state.badDay = Boolean(input.value) && input.value > input.max;
  markDay();
  render();
  if (!state.badDay) load();
}

export function setupSpunta() {
  const input = $('#spunta-date');
  input.value = romeToday();
  input.max = romeToday();
  input.addEventListener('change', chooseDay);
  $('#spunta-form').addEventListener('submit', register);
  $('#spunta-assign').addEventListener('click', assign);
  return {
    show(marketId) {
      state.marketId = marketId;
      state.candidates = [];
      state.result = null;
      say(null, '');
      render();
      return state.badDay ? null : load();
    },
    retranslate() {
      markDay();
      render();
    },
  };
}
