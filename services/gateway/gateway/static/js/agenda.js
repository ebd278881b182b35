// The public agenda of a market (no login): the events open to everyone in its social and cultural
// spaces, from now on, earliest first. The market is in the address (/agenda?market=wagner), so a
// market can hand out the link; who booked an event is never shown (the API does not give it).

import { ApiError, errorMessage, publicApi } from './api.js';
import { $, clear, h } from './dom.js';
import { DASH, period } from './format.js';
import { currentLang, initI18n, onLangChange, t } from './i18n.js';

const PAGE = 100;
const enc = encodeURIComponent;
const state = { markets: [], marketId: null, spaces: [], events: [], total: 0, error: null, loaded: false };

// A market closed for trading may still host events in its spaces (the Piazza Ferrara pilot): it is
// listed, and said to be closed.
function marketLabel(m) {
  const name = m.name || m.id;
  return m.active === false ? t('agenda.closed_market', { name }) : name;
}

function renderMarkets() {
  clear($('#agenda-market'), state.markets.map((m) => h('option', { value: m.id, selected: m.id === state.marketId, text: marketLabel(m) })));
  const market = state.markets.find((m) => m.id === state.marketId);
  $('#agenda-address').textContent = market?.address || '';
}

function render() {
  const market = state.markets.find((m) => m.id === state.marketId);
  const spaceName = (code) => state.spaces.find((s) => s.code === code)?.name || code;
  let status = t('common.loading');
  if (state.error) status = `${t('agenda.unavailable')} ${errorMessage(state.error)}`;
  else if (state.loaded) status = state.events.length ? t('agenda.count', { n: state.total, market: market?.name || state.marketId }) : t('agenda.none', { market: market?.name || state.marketId || DASH });
  $('#agenda-status').textContent = status;
  clear(
    $('#agenda-list'),
    state.events.map((e) => h(
      'li',
      { class: 'agenda-event', 'data-testid': `agenda-event-${e.id}` },
      h('h3', { text: e.title }),
      h('p', { class: 'agenda-when', text: period(e.starts_at, e.ends_at) }),
      h('p', { class: 'muted small', text: t('agenda.where_who', { space: spaceName(e.space), organiser: e.organiser }) }),
    )),
  );
}

async function load() {
  const marketId = state.marketId;
  state.loaded = false;
  state.error = null;
  render();
  try {
    const query = new URLSearchParams({ from: new Date().toISOString(), limit: String(PAGE) });
    const [spaces, page] = await Promise.all([
      publicApi(`/markets/${enc(marketId)}/spaces`),
      publicApi(`/markets/${enc(marketId)}/agenda?${query}`),
    ]);
    if (marketId !== state.marketId) return;
    state.spaces = Array.isArray(spaces) ? spaces : [];
    state.events = Array.isArray(page?.items) ? page.items : [];
    state.total = Number.isFinite(page?.total) ? page.total : state.events.length;
  } catch (error) {
    state.events = [];
    state.error = error instanceof ApiError ? error : new ApiError(0);
  }
  state.loaded = true;
  render();
}

function choose(marketId) {
  state.marketId = marketId;
  const url = new URL(location.href);
  url.searchParams.set('market', marketId);
  history.replaceState(null, '', url);
  renderMarkets();
  return load();
}

async function start() {
  await initI18n();
  try {
    const page = await publicApi(`/markets?limit=500`);
    state.markets = (page?.items || []).filter((m) => m && m.id);
    state.markets.sort((a, b) => String(a.name || a.id).localeCompare(String(b.name || b.id), currentLang()));
  } catch (error) {
    state.error = error;
    state.loaded = true;
    render();
    return;
  }
  const asked = new URLSearchParams(location.search).get('market');
  const first = state.markets.find((m) => m.id === asked) || state.markets[0];
  if (first) await choose(first.id);
  else render();
}

$('#agenda-market').addEventListener('change', (event) => choose(event.target.value));
onLangChange(() => {
  renderMarkets();
  render();
});
await start();
