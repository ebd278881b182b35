// Market operator page: pick the market (office) or use the one in the token's scope (operator),
// then set each stall's status with one tap. Writes are guarded by the stall's version (If-Match).
// The day's spunta has its own screen below the stalls (spunta.js), and the market's social spaces
// theirs (spaces.js). Traders use the page for the spaces only: they pick any market.

import { ApiError, api, apiList, errorMessage } from './api.js';
import { $, clear, h, keepFocus } from './dom.js';
import { DASH, isNum, num, time } from './format.js';
import { initI18n, onLangChange, t, tOr } from './i18n.js';
import { setupSession } from './session.js';
import { setupSpaces } from './spaces.js';
import { setupSpunta } from './spunta.js';

// What the page offers for a stall follows the markets service's rules: a stall with a holder is
// open, closed or in maintenance, and leaves maintenance through closed; a free stall is vacant or in
// maintenance (only assigning a holder, in the office, takes it out of vacant).
const HELD_MOVES = ['open', 'closed', 'maintenance'];
const FREE_MOVES = ['vacant', 'maintenance'];
const STATUSES = ['open', 'closed', 'maintenance', 'vacant'];
const MARKET_KEY = 'milan.operator.market';
const SUCCESS_VISIBLE_MS = 8000;

const state = {
  me: null,
  markets: [],
  marketId: null,
  stalls: [],
  busy: new Set(),
  loadedAt: null,
  message: null,
};

const stallPath = (number) =>
  `/markets/${encodeURIComponent(state.marketId)}/stalls/${encodeURIComponent(number)}`;

function findStall(number) {
  return state.stalls.find((s) => String(s.number) === String(number)) || null;
}

// ---------------------------------------------------------------- messages

let messageTimer = null;

// Success notes clear themselves after a while; errors stay until the next action.
function showMessage(kind, key, vars = {}, extra = '') {
  const message = { kind, key, vars, extra };
  state.message = message;
  renderMessage();
  clearTimeout(messageTimer);
  if (kind === 'success') {
    messageTimer = setTimeout(() => {
      if (state.message === message) {
        state.message = null;
        renderMessage();
      }
    }, SUCCESS_VISIBLE_MS);
  }
}

function renderMessage() {
  const el = $('#operator-message');
  const message = state.message;
  if (!message) {
    el.textContent = '';
    delete el.dataset.kind;
    return;
  }
  const vars = { ...message.vars };
  if (vars.status) vars.status = tOr('status', vars.status);
  const text = [message.key ? t(message.key, vars) : '', message.extra].filter(Boolean).join(' ');
  el.dataset.kind = message.kind;
  el.textContent = text;
}

// ---------------------------------------------------------------- market choice

function storedMarket() {
  try {
    return localStorage.getItem(MARKET_KEY);
  } catch {
    return null;
  }
}

function rememberMarket(id) {
  try {
    localStorage.setItem(MARKET_KEY, id);
  } catch {
    // Storage disabled: the choice lasts for this page only.
  }
}

function renderMarketSelect() {
  const select = $('#market-select');
  const current = state.marketId;
  const markets = state.markets.length ? state.markets : current ? [{ id: current, name: current }] : [];
  clear(
    select,
    markets.map((m) => h('option', { value: m.id, selected: m.id === current, text: m.name ? `${m.name}` : m.id })),
  );
  select.disabled = !['commerce_office', 'trader'].includes(state.me?.role) || markets.length < 2;
  const market = markets.find((m) => m.id === current);
  $('#market-info').textContent = market
    ? [market.address, market.municipio ? t('markets.municipio', { n: market.municipio }) : ''].filter(Boolean).join(' · ')
    : '';
}

// ---------------------------------------------------------------- stalls

function holderName(holder) {
  if (!holder) return '';
  if (typeof holder === 'string') return holder;
  if (typeof holder === 'object') return holder.name || holder.display_name || holder.id || '';
  return '';
}

const isHeld = (stall) => Boolean(holderName(stall.holder));

// The buttons a stall shows: the statuses it may have.
function moves(stall) {
  return isHeld(stall) ? HELD_MOVES : FREE_MOVES;
}

// The i18n key saying why the stall cannot go to `status` now, among its moves (null when it can).
function refusal(stall, status) {
  return status === 'open' && stall.status === 'maintenance' ? 'operator.why_not_open' : null;
}

function stallCard(stall) {
  const n = String(stall.number);
  const titleId = `stall-title-${n}`;
  const whyId = `stall-${n}-why`;
  const busy = state.busy.has(n);
  const meta = [
    tOr('category', stall.category),
    isNum(stall.area_m2) ? t('operator.area', { area: num(stall.area_m2, 1) }) : '',
    holderName(stall.holder) || t('operator.no_holder'),
  ].filter(Boolean);
  const offered = moves(stall);
  const why = offered.map((status) => refusal(stall, status)).find(Boolean);
  return h(
    'li',
    { class: 'stall', 'data-testid': `stall-${n}`, 'data-status': stall.status || 'unknown', 'aria-busy': busy ? 'true' : null },
    h(
      'div',
      { class: 'stall-head' },
      h('h3', { id: titleId, class: 'stall-title', text: t('operator.stall', { number: n }) }),
      h('span', {
        class: `status-badge status-${stall.status || 'unknown'}`,
        'data-testid': `stall-${n}-status`,
        'data-status': stall.status || '',
        text: tOr('status', stall.status) || DASH,
      }),
    ),
    meta.length ? h('p', { class: 'stall-meta', text: meta.join(' · ') }) : null,
    h(
      'div',
      { class: 'status-buttons', role: 'group', 'aria-labelledby': titleId },
      offered.map((status) => {
        const refused = Boolean(refusal(stall, status));
        return h('button', {
          type: 'button',
          class: `status-button status-button-${status}`,
          'data-testid': `stall-${n}-${status}`,
          'data-focus-key': `stall-${n}-${status}`,
          'data-refused': refused ? 'true' : null,
          'aria-pressed': String(stall.status === status),
          // aria-disabled rather than disabled: the tapped button keeps keyboard focus while saving,
          // and a move the rules refuse stays reachable with its reason read out.
          'aria-disabled': busy || refused ? 'true' : null,
          'aria-describedby': refused ? whyId : null,
          text: t(`status.${status}`),
          onclick: () => setStatus(n, status),
        });
      }),
    ),
    why ? h('p', { id: whyId, class: 'stall-why', 'data-testid': whyId, text: t(why) }) : null,
  );
}

function matchesFilter(stall, filter) {
  if (!filter) return true;
  const haystack = `${stall.number} ${holderName(stall.holder)} ${tOr('category', stall.category)}`.toLowerCase();
  return haystack.includes(filter);
}

function renderCounts() {
  const counts = Object.fromEntries(STATUSES.map((s) => [s, 0]));
  for (const stall of state.stalls) if (stall.status in counts) counts[stall.status] += 1;
  clear(
    $('#stall-counts'),
    STATUSES.map((s) =>
      h('li', { class: `count-chip status-${s}`, 'data-testid': `count-${s}` }, `${t(`count.${s}`)} `, h('strong', { text: num(counts[s]) })),
    ),
  );
  $('#stalls-updated').textContent = state.loadedAt ? t('operator.updated', { time: time(state.loadedAt) }) : '';
}

function renderStalls() {
  const list = $('#stall-list');
  const filter = $('#stall-filter').value.trim().toLowerCase();
  const visible = state.stalls.filter((s) => matchesFilter(s, filter));
  keepFocus(() => {
    if (!state.stalls.length) clear(list, h('li', { class: 'empty', text: state.loadedAt ? t('operator.no_stalls') : t('common.loading') }));
    else if (!visible.length) clear(list, h('li', { class: 'empty', text: t('operator.no_match') }));
    else clear(list, visible.map(stallCard));
  });
  renderCounts();
}

function replaceStall(stall) {
  const index = state.stalls.findIndex((s) => String(s.number) === String(stall.number));
  if (index === -1) state.stalls.push(stall);
  else state.stalls[index] = stall;
  const n = String(stall.number);
  const old = document.querySelector(`[data-testid="stall-${CSS.escape(n)}"]`);
  keepFocus(() => {
    if (old) old.replaceWith(stallCard(stall));
    else renderStalls();
  });
  renderCounts();
}

function setBusy(number, busy) {
  if (busy) state.busy.add(number);
  else state.busy.delete(number);
  const stall = findStall(number);
  if (stall) replaceStall(stall);
}

async function loadStalls() {
  if (!state.marketId) return;
  const marketId = state.marketId;
  try {
    const stalls = await apiList(`/markets/${encodeURIComponent(marketId)}/stalls`);
    if (marketId !== state.marketId) return;
    state.stalls = stalls
      .filter((s) => s && s.number !== undefined && s.number !== null)
      .sort((a, b) => String(a.number).localeCompare(String(b.number), undefined, { numeric: true }));
    state.loadedAt = new Date();
    renderStalls();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return;
    renderStalls();
    showMessage('error', 'operator.load_failed', {}, errorMessage(error));
  }
}

async function reloadStall(number) {
  try {
    const fresh = await api(stallPath(number));
    if (fresh && fresh.number !== undefined) replaceStall(fresh);
    return fresh;
  } catch {
    return null;
  }
}

async function setStatus(number, status) {
  const stall = findStall(number);
  if (!stall || state.busy.has(number)) return;
  if (stall.status === status) {
    showMessage('info', 'operator.already', { number, status });
    return;
  }
  const why = refusal(stall, status);
  if (why) {
    showMessage('info', why);
    return;
  }
  const note = $('#status-note').value.trim();
  const body = { status };
  if (note) body.note = note;
  const headers = {};
  if (isNum(stall.version)) {
    body.version = stall.version;
    headers['If-Match'] = `"${stall.version}"`;
  }
  setBusy(number, true);
  showMessage('info', 'operator.saving', { number, status });
  try {
    const updated = await api(`${stallPath(number)}/status`, { method: 'PUT', json: body, headers });
    const fields = updated && typeof updated === 'object' ? updated : {};
    state.busy.delete(number);
    replaceStall({ ...stall, ...fields, status: fields.status || status });
    // The next write needs the new version; fetch the stall if the answer did not carry it.
    if (!isNum(fields.version)) reloadStall(number);
    $('#status-note').value = '';
    showMessage('success', 'operator.saved', { number, status: fields.status || status });
  } catch (error) {
    state.busy.delete(number);
    if (error instanceof ApiError && error.status === 401) return;
    const fresh = error instanceof ApiError && error.status === 412 ? await reloadStall(number) : null;
    if (!fresh) setBusy(number, false);
    if (error instanceof ApiError && error.status === 412) {
      const key = fresh?.status ? 'operator.stale' : 'operator.stale_unknown';
      showMessage('error', key, { number, status: fresh?.status || '' }, errorMessage(error));
    } else {
      showMessage('error', 'operator.failed', { number }, errorMessage(error));
    }
  }
}

// ---------------------------------------------------------------- wiring

async function chooseMarket(id) {
  state.marketId = id;
  state.stalls = [];
  state.loadedAt = null;
  state.message = null;
  renderMessage();
  renderMarketSelect();
  if (state.me?.role === 'trader') return spaces.show(id);
  renderStalls();
  return Promise.all([loadStalls(), spunta.show(id), spaces.show(id)]);
}

async function startOperator(me) {
  state.me = me;
  const notice = $('#role-notice');
  const content = $('#operator-content');
  const allowed = ['commerce_office', 'trader'].includes(me.role) || (me.role === 'market_operator' && me.scope);
  notice.hidden = Boolean(allowed);
  $('#go-trader').hidden = me.role !== 'trader';
  content.hidden = !allowed;
  if (!allowed) return;
  for (const el of document.querySelectorAll('.stalls-only')) el.hidden = me.role === 'trader';
  if (me.role === 'market_operator') {
    state.markets = [];
    try {
      const market = await api(`/markets/${encodeURIComponent(me.scope)}`);
      if (market && market.id) state.markets = [market];
      spaces.setMarkets(state.markets);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return;
    }
    await chooseMarket(me.scope);
    return;
  }
  try {
    state.markets = (await apiList('/markets')).filter((m) => m && m.id);
    state.markets.sort((a, b) => String(a.name || a.id).localeCompare(String(b.name || b.id)));
    spaces.setMarkets(state.markets);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return;
    showMessage('error', 'operator.load_failed', {}, errorMessage(error));
    return;
  }
  const saved = storedMarket();
  const first = state.markets.find((m) => m.id === saved) || state.markets[0];
  if (first) await chooseMarket(first.id);
  else renderStalls();
}

function stopOperator() {
  Object.assign(state, { me: null, markets: [], marketId: null, stalls: [], loadedAt: null, message: null });
  state.busy.clear();
  renderMessage();
  spaces.stop();
}

const spunta = setupSpunta();
const spaces = setupSpaces({ me: () => state.me });
const session = setupSession({ onSignedIn: startOperator, onSignedOut: stopOperator });

$('#market-select').addEventListener('change', (event) => {
  rememberMarket(event.target.value);
  chooseMarket(event.target.value);
});
$('#stall-filter').addEventListener('input', renderStalls);
$('#refresh-button').addEventListener('click', () => {
  showMessage('info', 'operator.refreshing');
  loadStalls().then(() => {
    if (state.message?.key === 'operator.refreshing') showMessage('success', 'operator.refreshed');
  });
});
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible' && state.marketId && !$('#app-view').hidden) loadStalls();
});

onLangChange(() => {
  session.retranslate();
  if ($('#app-view').hidden) return;
  renderMarketSelect();
  renderStalls();
  renderMessage();
  spunta.retranslate();
  spaces.retranslate();
});

await initI18n();
session.start();
