// The office's historic-shop recognitions: the applications in a state (pending first), each with
// its founding year, trade, continuity and documents — uploaded ones fetched with the office's
// token and opened in a new tab or saved, references shown as text — and the decision: approve, or
// reject with a reason, sent with the shop's version (If-Match) so a shop changed meanwhile is read
// again before anyone decides on it.

import { ApiError, api, apiFile, apiList, errorMessage } from './api.js';
import { $, clear, h, keepFocus } from './dom.js';
import { DASH, calendarDay, dateTime, fileSize } from './format.js';
import { current, dataTable, errorPanel, rowButton, sayer, showInvalid, showProblem, startSubmit } from './forms.js';
import { t, tOr } from './i18n.js';

const STATES = ['pending', 'approved', 'rejected'];
const HISTORIC_MIN_YEARS = 50; // as the shops service checks it on approval
const URL_LIFETIME_MS = 60_000; // a document's blob URL, long enough for the new tab to read it

const state = {
  started: false,
  filter: 'pending',
  shops: [],
  applications: new Map(), // shop id -> its latest recognition
  shop: null, // the shop open in the detail view
  recognition: null,
  documents: new Map(), // document id -> {filename, content_type, size, uploaded_at}
};

const say = sayer('#recognitions-message');
const enc = encodeURIComponent;

const setError = errorPanel('#recognitions-error');

function stateBadge(value, testid) {
  const mark = { pending: '○ ', approved: '✓ ', rejected: '✗ ' }[value] || '';
  return h('span', { class: `recognition-state recognition-${value}`, 'data-testid': testid }, h('span', { 'aria-hidden': 'true', text: mark }), tOr('recognition_state', value));
}

// ---------------------------------------------------------------- the queue

async function loadQueue() {
  const filter = state.filter;
  try {
    const shops = await apiList('/shops', { recognition: filter });
    const recognitions = await Promise.all(shops.map((s) => api(`/shops/${enc(s.id)}/recognition`).catch(() => null)));
    if (filter !== state.filter) return;
    state.shops = shops;
    state.applications = new Map(shops.map((s, i) => [s.id, recognitions[i]]));
    // oldest application first: the queue is worked in the order people applied
    state.shops.sort((a, b) => String(state.applications.get(a.id)?.applied_at || '').localeCompare(String(state.applications.get(b.id)?.applied_at || '')));
    setError(null);
  } catch (error) {
    setError(error);
  }
  renderQueue();
}

function renderFilter() {
  clear($('#recognitions-filter'), STATES.map((s) => h('option', { value: s, selected: s === state.filter, text: tOr('recognition_filter', s) })));
}

function renderQueue() {
  const heads = ['recognitions.col.shop', 'recognitions.col.address', 'recognitions.col.trade', 'recognitions.col.founded', 'recognitions.col.applied', 'recognitions.col.state', 'recognitions.col.open'];
  keepFocus(() => dataTable($('#recognitions-table'), {
    caption: t('recognitions.caption', { state: tOr('recognition_filter', state.filter), n: state.shops.length }),
    heads: heads.map((key, i) => ({ text: t(key), num: i === 3 })),
    rows: state.shops.map((s) => {
      const r = state.applications.get(s.id);
      return h(
        'tr',
        { 'data-testid': `recognition-row-${s.id}`, class: state.shop?.id === s.id ? 'selected-row' : '' },
        h('th', { scope: 'row' }, h('span', { class: 'cell-title', text: s.name }), h('span', { class: 'cell-sub', text: s.id })),
        h('td', { text: s.address || DASH }),
        h('td', { text: r?.application?.trade || s.trade || DASH }),
        h('td', { class: 'num', text: r ? String(r.application.founding_year) : DASH }),
        h('td', { text: r ? dateTime(r.applied_at) : DASH }),
        h('td', {}, stateBadge(r?.state || s.recognition_state, `recognition-state-${s.id}`)),
        h('td', {}, current(rowButton(`recognition-open-${s.id}`, t('calls.open'), t('recognitions.open_named', { name: s.name }), () => {
          say('info', '');
          openShop(s.id);
        }), state.shop?.id === s.id)),
      );
    }),
    empty: t('recognitions.none'),
  }));
}

// ---------------------------------------------------------------- one application

async function loadShop(shopId) {
  const path = `/shops/${enc(shopId)}`;
  const [shop, recognition, documents] = await Promise.all([
    api(path),
    api(`${path}/recognition`),
    apiList(`${path}/documents`),
  ]);
  state.shop = shop;
  state.recognition = recognition;
  state.documents = new Map(documents.map((d) => [d.id, d]));
}

async function openShop(shopId, { focus = true } = {}) {
  try {
    await loadShop(shopId);
    setError(null);
  } catch (error) {
    setError(error);
    return;
  }
  renderDetail();
  renderQueue();
  if (focus) $('#recognition-detail-title')?.focus();
}

// The document's bytes, fetched with the office's token (apiFile), handed to the browser as a blob: URL —
// opened in a new tab, or saved under its own name.
async function fetchDocument(button, doc, { download }) {
  button.disabled = true;
  try {
    const { blob } = await apiFile(`/shops/${enc(state.shop.id)}/documents/${enc(doc.id)}`);
    const url = URL.createObjectURL(blob);
    const link = h('a', { href: url, hidden: true, ...(download ? { download: doc.filename || doc.id } : { target: '_blank', rel: 'noopener' }) });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), URL_LIFETIME_MS);
    say('info', t(download ? 'recognitions.saved' : 'recognitions.opened', { name: doc.filename || doc.id }));
  } catch (error) {
    say('error', `${t('recognitions.document_failed')} ${errorMessage(error)}`);
  } finally {
    button.disabled = false;
  }
}

function documentItem(d, index) {
  const uploaded = d.document_id ? state.documents.get(d.document_id) : null;
  const label = d.title || d.kind;
  return h(
    'li',
    { class: 'document', 'data-testid': `document-${index}` },
    h('p', {}, h('strong', { text: d.title }), ` · ${tOr('document_kind', d.kind)}`, d.issued_on ? ` · ${t('recognitions.issued_on', { date: calendarDay(d.issued_on) })}` : ''),
    d.document_id
      ? h(
          'div',
          { class: 'document-file' },
          uploaded
            ? h('p', { class: 'small', text: t('recognitions.file', { name: uploaded.filename, type: uploaded.content_type, size: fileSize(uploaded.size), at: dateTime(uploaded.uploaded_at) }) })
            : h('p', { class: 'small', text: t('recognitions.file_unknown', { id: d.document_id }) }),
          h(
            'div',
            { class: 'form-actions' },
            h('button', { type: 'button', class: 'btn btn-small', 'data-testid': `document-open-${index}`, text: t('recognitions.open_document'), 'aria-label': t('recognitions.open_document_named', { title: label }), onclick: (e) => fetchDocument(e.currentTarget, uploaded || { id: d.document_id }, { download: false }) }),
            h('button', { type: 'button', class: 'btn btn-small', 'data-testid': `document-save-${index}`, text: t('recognitions.save_document'), 'aria-label': t('recognitions.save_document_named', { title: label }), onclick: (e) => fetchDocument(e.currentTarget, uploaded || { id: d.document_id }, { download: true }) }),
          ),
        )
      : null,
    d.reference ? h('p', { class: 'small', 'data-testid': `document-reference-${index}` }, h('span', { class: 'muted', text: `${t('recognitions.reference')} ` }), d.reference) : null,
  );
}

function eligibility(foundingYear) {
  const thisYear = Number(new Intl.DateTimeFormat('en', { year: 'numeric', timeZone: 'Europe/Rome' }).format(new Date()));
  const years = thisYear - foundingYear;
  const ok = years >= HISTORIC_MIN_YEARS;
  return h(
    'p',
    { class: `notice ${ok ? 'notice-ok' : 'notice-problem'}`, 'data-testid': 'eligibility' },
    h('span', { 'aria-hidden': 'true', text: ok ? '✓ ' : '✗ ' }),
    t(ok ? 'recognitions.eligible' : 'recognitions.not_eligible', { years, min: HISTORIC_MIN_YEARS, from: foundingYear + HISTORIC_MIN_YEARS }),
  );
}

function decisionForm() {
  return h(
    'form',
    { id: 'decision-form', class: 'score-form', novalidate: true, 'aria-labelledby': 'decision-title', onsubmit: decide },
    h('h4', { id: 'decision-title', text: t('recognitions.decision_title') }),
    h(
      'fieldset',
      { class: 'checks decision-choice', id: 'decision-choice', 'data-field': 'body.decision', tabindex: '-1' },
      h('legend', { text: t('recognitions.decision') }),
      h(
        'ul',
        { class: 'check-list' },
        ['approve', 'reject'].map((value) =>
          h(
            'li',
            { class: 'check-item' },
            h('input', { type: 'radio', name: 'decision', id: `decision-${value}`, value, 'data-testid': `decision-${value}`, 'data-focus-key': `decision-${value}` }),
            h('label', { for: `decision-${value}`, text: t(`recognitions.decision.${value}`) }),
          ),
        ),
      ),
    ),
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'decision-reason', text: t('recognitions.reason') }),
      h('textarea', { id: 'decision-reason', rows: '3', maxlength: '1000', 'data-field': 'body.reason', 'aria-describedby': 'decision-reason-hint', 'data-focus-key': 'decision-reason' }),
      h('p', { id: 'decision-reason-hint', class: 'muted small', text: t('recognitions.reason_hint') }),
    ),
    h('p', { id: 'decision-message', class: 'form-message', tabindex: '-1' }),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', id: 'decision-submit', class: 'btn btn-primary', 'data-testid': 'decision-submit', text: t('recognitions.decision_submit') })),
  );
}

function decidedNotice(r) {
  return h(
    'div',
    { class: `notice ${r.state === 'approved' ? 'notice-ok' : 'notice-problem'}`, id: 'decision-done', tabindex: '-1', 'data-focus-key': 'decision-done', 'data-testid': 'decision-done' },
    h('p', {}, stateBadge(r.state, 'decision-state'), ' ', t('recognitions.decided', { by: r.decided_by || DASH, at: dateTime(r.decided_at) })),
    r.reason ? h('p', {}, h('strong', { text: `${t('recognitions.reason')}: ` }), r.reason) : null,
  );
}

async function decide(event) {
  const form = event.currentTarget;
  const message = $('#decision-message');
  startSubmit(event, form, message);
  const choice = form.querySelector('input[name="decision"]:checked')?.value;
  const reason = $('#decision-reason');
  const problems = [];
  if (!choice) problems.push([$('#decision-choice'), t('recognitions.err.choice')]);
  if (choice === 'reject' && !reason.value.trim()) problems.push([reason, t('recognitions.err.reason')]);
  if (problems.length) {
    showInvalid(problems, message, say);
    return;
  }
  const shop = state.shop;
  const submit = $('#decision-submit');
  submit.disabled = true;
  try {
    const decided = await api(`/shops/${enc(shop.id)}/recognition/decision`, {
      method: 'POST',
      json: { decision: choice, reason: reason.value.trim() || null },
      headers: { 'If-Match': `"${shop.version}"` },
    });
    await loadShop(shop.id);
    renderDetail();
    await loadQueue();
    say('success', t(choice === 'approve' ? 'recognitions.approved' : 'recognitions.rejected', { name: decided.name }));
    $('#decision-done')?.focus();
  } catch (error) {
    submit.disabled = false;
    if (error instanceof ApiError && error.status === 412) {
      // someone changed the shop since it was read: show it as it is now, the office decides again
      await openShop(shop.id, { focus: false });
      say('error', t('recognitions.stale', { name: shop.name }));
      $('#recognition-detail-title')?.focus();
      return;
    }
    showProblem(form, error, message, say);
  }
}

function renderDetail() {
  const box = $('#recognition-detail');
  const shop = state.shop;
  const r = state.recognition;
  if (!shop || !r) {
    box.hidden = true;
    clear(box);
    return;
  }
  box.hidden = false;
  const a = r.application;
  const same = box.dataset.shop === shop.id;
  const typed = same ? box.querySelector('#decision-reason')?.value : '';
  const chosen = same ? box.querySelector('input[name="decision"]:checked')?.value : null;
  box.dataset.shop = shop.id;
  keepFocus(() => clear(
    box,
    h('div', { class: 'card-head' }, h('h3', { id: 'recognition-detail-title', tabindex: '-1', 'data-focus-key': 'recognition-detail-title', 'data-testid': 'recognition-title', text: shop.name })),
    h(
      'dl',
      { class: 'facts facts-wide' },
      h('dt', { text: t('recognitions.shop_id') }), h('dd', {}, h('code', { text: shop.id })),
      h('dt', { text: t('recognitions.col.address') }), h('dd', { text: shop.address || DASH }),
      h('dt', { text: t('recognitions.kind') }), h('dd', { 'data-testid': 'shop-kind', text: tOr('shop_kind', shop.kind) }),
      h('dt', { text: t('recognitions.col.state') }), h('dd', {}, stateBadge(r.state, 'application-state')),
      h('dt', { text: t('recognitions.applied_by') }), h('dd', { text: t('recognitions.applied_by_at', { by: r.applied_by, at: dateTime(r.applied_at) }) }),
    ),
    h('h4', { text: t('recognitions.application') }),
    h(
      'dl',
      { class: 'facts facts-wide', 'data-testid': 'application-facts' },
      h('dt', { text: t('recognitions.col.founded') }), h('dd', { text: String(a.founding_year) }),
      h('dt', { text: t('recognitions.col.trade') }), h('dd', { text: a.trade }),
    ),
    r.state === 'pending' ? eligibility(a.founding_year) : null,
    h('h5', { text: t('recognitions.continuity') }),
    h('p', { class: 'offer', 'data-testid': 'continuity', text: a.continuity }),
    h('h5', { text: t('recognitions.documents', { n: (a.documents || []).length }) }),
    (a.documents || []).length
      ? h('ul', { class: 'documents plain-list', 'data-testid': 'documents' }, a.documents.map(documentItem))
      : h('p', { class: 'muted small', text: t('calls.no_documents') }),
    r.state === 'pending' ? decisionForm() : decidedNotice(r),
  ));
  // what the office chose and typed survives a re-render of the same pending application
  const reason = $('#decision-reason');
  if (reason && typed) reason.value = typed;
  const choice = chosen && $(`#decision-${chosen}`);
  if (choice) choice.checked = true;
}

// ---------------------------------------------------------------- wiring

export function setupRecognitions() {
  $('#recognitions-filter').addEventListener('change', (event) => {
    state.filter = event.target.value;
    loadQueue();
  });
  $('#recognitions-refresh').addEventListener('click', async () => {
    await loadQueue();
    if (state.shop) await openShop(state.shop.id, { focus: false });
    say('info', t('workspace.refreshed'));
  });
}

// Loads the queue each time the section is shown (applications arrive from shopkeepers).
export async function showRecognitions() {
  state.started = true;
  renderFilter();
  await loadQueue();
}

// A shops event from the live stream: the queue follows (the open application is left alone).
export function recognitionEvent() {
  if (state.started && !$('#recognitions-view').hidden) loadQueue();
}

export function stopRecognitions() {
  Object.assign(state, { started: false, shops: [], applications: new Map(), shop: null, recognition: null, documents: new Map() });
  renderDetail();
  say('info', '');
}

export function retranslateRecognitions() {
  if (!state.started) return;
  renderFilter();
  renderQueue();
  renderDetail();
}
