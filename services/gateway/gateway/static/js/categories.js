// The office corrects a shop's category: every shop carries one of the published categories,
// derived from its trade text on import; where the words mislead ("Bar" in a bakery's trade) the
// office finds the shop by name, trade or neighbourhood and picks the right one, or goes back to
// the derived one. Each change is sent with the shop's version (If-Match), so a shop changed
// meanwhile is read again instead of overwritten. The districts' product mix follows the change.

import { ApiError, api } from './api.js';
import { $, h, keepFocus } from './dom.js';
import { DASH, num } from './format.js';
import { clearFieldErrors, dataTable, errorPanel, rowButton, sayer, setFieldError, showProblem } from './forms.js';
import { t } from './i18n.js';

const PAGE = 25;
const DERIVED = '';

const state = { categories: [], shops: [], total: 0, search: null };

const say = sayer('#data-message');
const setError = errorPanel('#shop-categories-error');
const enc = encodeURIComponent;

async function loadCategories() {
  if (state.categories.length) return;
  const page = await api('/categories');
  state.categories = Array.isArray(page?.items) ? page.items : [];
}

function labelOf(code) {
  return state.categories.find((c) => c.code === code)?.label || code || DASH;
}

async function search(event) {
  event?.preventDefault();
  const form = $('#shop-categories-form');
  clearFieldErrors(form);
  const q = $('#shop-categories-q').value.trim();
  const nil = $('#shop-categories-nil').value.trim();
  if (!q && !nil) {
    setFieldError($('#shop-categories-q'), t('shop_categories.need_words'));
    $('#shop-categories-q').focus();
    return;
  }
  state.search = { q, nil };
  const params = new URLSearchParams({ limit: String(PAGE) });
  if (q) params.set('q', q);
  if (nil) params.set('nil', nil);
  try {
    await loadCategories();
    const page = await api(`/shops?${params}`);
    state.shops = Array.isArray(page?.items) ? page.items : [];
    state.total = Number.isFinite(page?.total) ? page.total : state.shops.length;
    setError(null);
    say('info', t('shop_categories.found', { n: num(state.total) }));
  } catch (error) {
    if (error instanceof ApiError && error.status === 422) showProblem(form, error, $('#shop-categories-message'), say);
    else setError(error);
  }
  render();
}

function categorySelect(shop) {
  const id = `shop-category-${shop.id}`;
  return h(
    'select',
    { id, 'data-testid': id, 'data-focus-key': id, 'aria-label': t('shop_categories.choose_named', { name: shop.name }) },
    h('option', { value: DERIVED, selected: !shop.category_by_office, text: t('shop_categories.derived') }),
    state.categories.map((c) => h('option', { value: c.code, selected: shop.category_by_office && c.code === shop.category, text: c.label })),
  );
}

async function save(shop, button) {
  const select = $(`#shop-category-${CSS.escape(shop.id)}`);
  const chosen = select.value || null;
  button.disabled = true;
  try {
    const updated = await api(`/shops/${enc(shop.id)}`, {
      method: 'PATCH',
      json: { category: chosen },
      headers: { 'If-Match': `"${shop.version}"` },
    });
    state.shops = state.shops.map((s) => (s.id === shop.id ? updated : s));
    say('success', t('shop_categories.saved', { name: updated.name, category: labelOf(updated.category) }));
  } catch (error) {
    if (error instanceof ApiError && error.status === 412) {
      // changed meanwhile: show the shop as it is now, and let the office decide again
      const fresh = await api(`/shops/${enc(shop.id)}`).catch(() => null);
      if (fresh) state.shops = state.shops.map((s) => (s.id === shop.id ? fresh : s));
      say('error', t('shop_categories.changed_meanwhile', { name: shop.name }));
    } else {
      say('error', t('shop_categories.not_saved', { name: shop.name, error: error instanceof ApiError ? error.message : '' }));
    }
  }
  render();
}

function render() {
  const table = $('#shop-categories-table');
  const wrap = table.closest('.table-wrap');
  wrap.hidden = !state.search;
  if (!state.search) return;
  const heads = ['shop_categories.col.shop', 'shop_categories.col.trade', 'shop_categories.col.nil', 'shop_categories.col.category', 'shop_categories.col.change', 'shop_categories.col.save'];
  keepFocus(() => dataTable(table, {
    caption: state.total > state.shops.length ? t('shop_categories.caption_more', { n: num(state.shops.length), total: num(state.total) }) : t('shop_categories.caption', { n: num(state.shops.length) }),
    heads: heads.map((key) => t(key)),
    rows: state.shops.map((shop) => {
      const button = rowButton(`shop-category-save-${shop.id}`, t('shop_categories.save'), t('shop_categories.save_named', { name: shop.name }), () => save(shop, button));
      return h(
        'tr',
        { 'data-testid': `shop-category-row-${shop.id}` },
        h('th', { scope: 'row' }, h('span', { class: 'cell-title', text: shop.name }), h('span', { class: 'cell-sub', text: shop.address || shop.id })),
        h('td', { text: shop.trade || DASH }),
        h('td', { text: shop.nil || DASH }),
        h('td', { 'data-testid': `shop-category-now-${shop.id}` }, labelOf(shop.category), ' ', h('span', { class: 'cell-sub', text: t(shop.category_by_office ? 'shop_categories.by_office' : 'shop_categories.from_trade') })),
        h('td', {}, categorySelect(shop)),
        h('td', {}, button),
      );
    }),
    empty: t('shop_categories.none'),
  }));
}

export function setupCategories() {
  $('#shop-categories-form').addEventListener('submit', search);
}

export function stopCategories() {
  state.shops = [];
  state.total = 0;
  state.search = null;
  render();
}

export function retranslateCategories() {
  if (!state.search) return;
  state.categories = []; // labels come in the page's language
  loadCategories().then(render, () => render());
}
