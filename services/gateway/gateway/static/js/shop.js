// Shop portal: a shopkeeper signs in (the account's scope is the shop) and keeps the shop's public
// face up to date from a phone — the services offered with their weekly hours, the days it is closed,
// the documents it holds and its application for historic recognition. Changes to a service are
// guarded by its version (If-Match); the API's refusals are shown next to the field they name.

import { ApiError, api, apiFile, apiList, errorMessage, publicApi } from './api.js';
import { $, clear, h } from './dom.js';
import { DASH, calendarDay, dateTime, num, romeToday, weekday } from './format.js';
import { dataList } from './forms.js';
import { currentLang, initI18n, onLangChange, t, tOr } from './i18n.js';
import { setupSession } from './session.js';

const DAYS = [0, 1, 2, 3, 4, 5, 6];
const MAX_BYTES = 10 * 1024 * 1024;
const TYPES = { 'application/pdf': 'PDF', 'image/jpeg': 'JPEG', 'image/png': 'PNG' };

const state = {
  me: null,
  shopId: null,
  shop: null,
  catalogue: [],
  services: [],
  closures: [],
  documents: [],
  recognition: null,
  editing: null, // the service being edited (null: a new one)
  draft: [], // hours being edited: one list of {opens, closes} per day
  messages: new Map(), // element id -> {kind, key, vars, extra}: re-translated on a language switch
};

const shopPath = (suffix = '') => `/shops/${encodeURIComponent(state.shopId)}${suffix}`;

// The API words its refusals in the page's language (Accept-Language).
const inPageLanguage = (options) => ({ ...options, headers: { 'Accept-Language': currentLang(), ...(options.headers || {}) } });

function call(path, options = {}) {
  return api(path, inPageLanguage(options));
}

// ---------------------------------------------------------------- messages and field errors

function say(id, kind, key, vars = {}, extra = '') {
  if (!key && !extra) state.messages.delete(id);
  else state.messages.set(id, { kind, key, vars, extra });
  renderMessage(id);
}

function renderMessage(id) {
  const el = $(`#${id}`);
  const message = state.messages.get(id);
  if (!message) {
    el.textContent = '';
    el.dataset.kind = 'info';
    return;
  }
  el.dataset.kind = message.kind;
  el.textContent = [message.key ? t(message.key, message.vars) : '', message.extra].filter(Boolean).join(' ');
}

function fieldError(id, text) {
  const input = $(`#${id}`);
  $(`#${id}-error`).textContent = text || '';
  if (text) input.setAttribute('aria-invalid', 'true');
  else input.removeAttribute('aria-invalid');
}

// A 422 (or a 400 naming fields) shown next to the fields it names; `fields` maps the API's field
// prefix ("body.hours") to the page's field id. Focus goes to the first one. True when every
// error found its field.
function showFieldErrors(error, fields) {
  const errors = error instanceof ApiError && Array.isArray(error.problem?.errors) ? error.problem.errors : [];
  let first = null;
  let placed = errors.length > 0;
  for (const { field = '', message = '' } of errors) {
    const prefix = Object.keys(fields).find((name) => field === name || field.startsWith(`${name}.`));
    if (!prefix) {
      placed = false;
      continue;
    }
    fieldError(fields[prefix], message);
    first = first || fields[prefix];
  }
  if (first) $(`#${first}`).focus();
  return placed;
}

// A write the API refused: nothing to add on a 401 (the session asks to log in again), a 422's
// errors next to the fields they name (`fields` as for showFieldErrors), anything else as `failed`
// in the message `id`. True when it was said in the message.
function showRefusal(error, fields, id, failed) {
  if (error instanceof ApiError && error.status === 401) return false;
  if (error instanceof ApiError && error.status === 422 && showFieldErrors(error, fields)) return false;
  say(id, 'error', failed, {}, errorMessage(error));
  return true;
}

function clearFieldErrors(ids) {
  for (const id of ids) fieldError(id, '');
}

// Sends a form: `send()` runs with the button `buttonId` disabled until it ends; when it throws,
// `refused(error)` says why.
async function sending(buttonId, send, refused) {
  const button = $(`#${buttonId}`);
  button.disabled = true;
  try {
    await send();
  } catch (error) {
    await refused(error);
  } finally {
    button.disabled = false;
  }
}

// ---------------------------------------------------------------- the shop

function renderShop() {
  const shop = state.shop;
  $('#shop-name').textContent = shop ? shop.name : state.shopId || '';
  $('#shop-address').textContent = shop ? [shop.address, shop.cap].filter(Boolean).join(', ') || DASH : DASH;
  $('#shop-kind').textContent = shop ? tOr('kind', shop.kind) : DASH;
  const status = $('#shop-status');
  status.textContent = shop ? tOr('shop_status', shop.status) : DASH;
  status.dataset.status = shop?.status || '';
}

// ---------------------------------------------------------------- services

function serviceLabel(code) {
  const entry = state.catalogue.find((s) => s.code === code);
  if (!entry) return tOr('service', code);
  return (currentLang() === 'en' ? entry.label_en : entry.label_it) || entry.label_it || code;
}

// 00:00-00:00 is how the hours say "open all day"
const ALL_DAY = '00:00';

function rangeText({ opens, closes }) {
  if (opens === ALL_DAY && closes === ALL_DAY) return t('shop.all_day');
  const text = `${opens}\u2013${closes}`;
  return closes <= opens ? `${text} ${t('shop.next_day')}` : text;
}

function hoursByDay(hours) {
  const days = DAYS.map(() => []);
  for (const range of hours || []) if (days[range.day]) days[range.day].push(range);
  for (const ranges of days) ranges.sort((a, b) => a.opens.localeCompare(b.opens));
  return days;
}

function serviceItem(service) {
  const label = serviceLabel(service.service);
  const days = hoursByDay(service.hours);
  const titleId = `service-title-${service.id}`;
  return h(
    'li',
    { class: 'shop-item', 'data-testid': `service-${service.service}`, 'aria-labelledby': titleId },
    h('h3', { id: titleId, class: 'shop-item-title', text: label }),
    h(
      'dl',
      { class: 'hours-summary', 'data-testid': `service-${service.service}-hours` },
      DAYS.map((day) =>
        h(
          'div',
          {},
          h('dt', { text: weekday(day) }),
          h('dd', { text: days[day].length ? days[day].map(rangeText).join(', ') : t('shop.closed_day') }),
        ),
      ),
    ),
    service.note ? h('p', { class: 'muted small', text: service.note }) : null,
    h(
      'div',
      { class: 'item-actions' },
      h(
        'button',
        { type: 'button', class: 'btn btn-secondary btn-small', 'data-testid': `service-${service.service}-edit`, onclick: () => openEditor(service) },
        t('shop.edit'),
        h('span', { class: 'visually-hidden', text: ` ${label}` }),
      ),
      h(
        'button',
        { type: 'button', class: 'btn btn-secondary btn-small btn-danger', 'data-testid': `service-${service.service}-remove`, onclick: () => removeService(service) },
        t('shop.remove'),
        h('span', { class: 'visually-hidden', text: ` ${label}` }),
      ),
    ),
  );
}

function renderServices() {
  const list = $('#service-list');
  dataList(list, state.services, serviceItem, t('shop.no_services'));
}

async function loadServices() {
  state.services = await apiList(shopPath('/services'));
  state.services.sort((a, b) => serviceLabel(a.service).localeCompare(serviceLabel(b.service)));
  renderServices();
}

// ---- the editor: one form for a new service and for changing one

function renderServiceChoice() {
  const select = $('#service-code');
  const offered = new Set(state.services.map((s) => s.service));
  const editing = state.editing;
  const current = editing ? editing.service : select.value;
  const choices = state.catalogue.filter((s) => (editing ? s.code === editing.service : !offered.has(s.code)));
  clear(
    select,
    editing ? null : h('option', { value: '', text: t('shop.service_choose') }),
    choices.map((s) => h('option', { value: s.code, selected: s.code === current, text: serviceLabel(s.code) })),
  );
  select.disabled = Boolean(editing);
}

function dayGroup(day) {
  const name = weekday(day);
  const ranges = state.draft[day];
  const legendId = `hours-day-${day}`;
  return h(
    'fieldset',
    { class: 'hours-day', 'data-testid': `hours-day-${day}` },
    h('legend', { id: legendId, text: name }),
    ranges.length
      ? h(
          'ol',
          { class: 'hours-ranges' },
          ranges.map((range, index) => {
            const context = t('shop.range_of', { day: name, n: index + 1 });
            const opensId = `hours-${day}-${index}-opens`;
            const closesId = `hours-${day}-${index}-closes`;
            const input = (id, key) =>
              h('input', {
                id,
                type: 'time',
                value: range[key],
                required: true,
                'data-testid': id,
                oninput: (event) => {
                  range[key] = event.target.value;
                  fieldError('hours-days', '');
                },
              });
            return h(
              'li',
              { class: 'hours-range' },
              h('div', { class: 'field' }, h('label', { for: opensId }, h('span', { class: 'visually-hidden', text: `${context}: ` }), t('shop.opens')), input(opensId, 'opens')),
              h('div', { class: 'field' }, h('label', { for: closesId }, h('span', { class: 'visually-hidden', text: `${context}: ` }), t('shop.closes')), input(closesId, 'closes')),
              h(
                'button',
                {
                  type: 'button',
                  class: 'btn btn-secondary btn-small btn-danger range-remove',
                  'data-testid': `hours-${day}-${index}-remove`,
                  onclick: () => {
                    ranges.splice(index, 1);
                    renderDays(`hours-${day}-add`);
                  },
                },
                h('span', { 'aria-hidden': 'true', text: '\u00d7' }),
                h('span', { class: 'visually-hidden', text: `${t('shop.range_remove')} (${context})` }),
              ),
            );
          }),
        )
      : h('p', { class: 'muted small', text: t('shop.closed_day') }),
    h(
      'div',
      { class: 'item-actions' },
      h(
        'button',
        {
          type: 'button',
          id: `hours-${day}-add`,
          class: 'btn btn-secondary btn-small',
          'data-testid': `hours-${day}-add`,
          onclick: () => {
            ranges.push({ opens: '', closes: '' });
            renderDays(`hours-${day}-${ranges.length - 1}-opens`);
          },
        },
        t('shop.range_add'),
        h('span', { class: 'visually-hidden', text: ` (${name})` }),
      ),
      day > 0
        ? h(
            'button',
            {
              type: 'button',
              id: `hours-${day}-copy`,
              class: 'btn btn-secondary btn-small',
              'data-testid': `hours-${day}-copy`,
              onclick: () => {
                state.draft[day] = state.draft[day - 1].map((r) => ({ ...r }));
                renderDays(`hours-${day}-copy`);
              },
            },
            t('shop.range_copy', { day: weekday(day - 1) }),
            h('span', { class: 'visually-hidden', text: ` (${name})` }),
          )
        : null,
    ),
  );
}

function renderDays(focusId) {
  clear($('#hours-days'), DAYS.map(dayGroup));
  if (focusId) $(`#${CSS.escape(focusId)}`)?.focus();
}

function renderEditorTitle() {
  $('#service-form-title').textContent = state.editing
    ? t('shop.service_edit_title', { service: serviceLabel(state.editing.service) })
    : t('shop.service_new_title');
}

function fillEditor(service) {
  state.editing = service;
  state.draft = hoursByDay(service?.hours).map((ranges) => ranges.map(({ opens, closes }) => ({ opens, closes })));
  $('#service-code').value = '';
  renderServiceChoice();
  renderEditorTitle();
  renderDays();
  $('#service-note').value = service?.note || '';
}

function openEditor(service = null) {
  clearFieldErrors(['service-code', 'hours-days', 'service-note']);
  say('service-form-message');
  fillEditor(service);
  $('#service-form').hidden = false;
  $('#service-add').hidden = true;
  $('#service-form-title').focus();
}

function closeEditor() {
  $('#service-form').hidden = true;
  $('#service-add').hidden = false;
  state.editing = null;
}

// The hours typed, in the API's shape, each range in the order the form shows them; `missing`: a
// day with a range half filled in, `same`: a range opening and closing at one time (but the whole day).
function draftHours() {
  const hours = [];
  for (const day of DAYS) {
    for (const [index, { opens, closes }] of state.draft[day].entries()) {
      if (!opens && !closes) continue;
      if (!opens || !closes) return { missing: day };
      if (opens === closes && opens !== ALL_DAY) return { same: { day, index, time: opens } };
      hours.push({ day, opens, closes });
    }
  }
  return { hours };
}

async function saveService(event) {
  event.preventDefault();
  clearFieldErrors(['service-code', 'hours-days', 'service-note']);
  say('service-form-message');
  const editing = state.editing;
  const code = editing ? editing.service : $('#service-code').value;
  if (!code) {
    fieldError('service-code', t('shop.need_service'));
    $('#service-code').focus();
    return;
  }
  const { hours, missing, same } = draftHours();
  if (missing !== undefined) {
    fieldError('hours-days', t('shop.need_both_times', { day: weekday(missing) }));
    $(`#hours-day-${missing}`).parentElement.querySelector('input')?.focus();
    return;
  }
  if (same) {
    fieldError('hours-days', t('shop.same_times', { day: weekday(same.day), time: same.time }));
    $(`#hours-${same.day}-${same.index}-closes`).focus();
    return;
  }
  if (!hours.length) {
    fieldError('hours-days', t('shop.need_hours'));
    $('#hours-0-add').focus();
    return;
  }
  const note = $('#service-note').value.trim();
  const fields = { 'body.service': 'service-code', 'body.hours': 'hours-days', 'body.note': 'service-note' };
  await sending(
    'service-save',
    async () => {
      const saved = editing
        ? await call(shopPath(`/services/${encodeURIComponent(editing.id)}`), {
            method: 'PUT',
            json: { hours, note },
            headers: { 'If-Match': `"${editing.version}"` },
          })
        : await call(shopPath('/services'), { method: 'POST', json: { service: code, hours, note } });
      closeEditor();
      await loadServices();
      say('services-message', 'info', editing ? 'shop.service_saved' : 'shop.service_added', { service: serviceLabel(saved.service) });
      $(`[data-testid="service-${CSS.escape(saved.service)}-edit"]`)?.focus();
    },
    async (error) => {
      if (error instanceof ApiError && error.status === 412 && editing) await reloadEdited(editing);
      else if (showRefusal(error, fields, 'service-form-message', 'shop.service_failed')) $('#service-form-title').focus();
    },
  );
}

// Someone else changed the service since it was opened: show what it is now, and say so.
async function reloadEdited(editing) {
  try {
    await loadServices();
  } catch (error) {
    say('service-form-message', 'error', 'shop.service_failed', {}, errorMessage(error));
    return;
  }
  const fresh = state.services.find((s) => s.id === editing.id);
  if (!fresh) {
    closeEditor();
    say('services-message', 'error', 'shop.service_gone', { service: serviceLabel(editing.service) });
    $('#services-title').focus();
    return;
  }
  fillEditor(fresh);
  say('service-form-message', 'error', 'shop.service_stale');
  $('#service-form-title').focus();
}

async function removeService(service) {
  const label = serviceLabel(service.service);
  if (!window.confirm(t('shop.remove_confirm', { service: label }))) return;
  try {
    await call(shopPath(`/services/${encodeURIComponent(service.id)}`), { method: 'DELETE' });
    if (state.editing?.id === service.id) closeEditor();
    await loadServices();
    say('services-message', 'info', 'shop.service_removed', { service: label });
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return;
    say('services-message', 'error', 'shop.service_failed', {}, errorMessage(error));
  }
  $('#services-title').focus();
}

// ---------------------------------------------------------------- closures

function closureDays(closure) {
  return closure.from === closure.to
    ? calendarDay(closure.from)
    : t('shop.closure_range', { from: calendarDay(closure.from), to: calendarDay(closure.to) });
}

function renderClosures() {
  const today = romeToday();
  for (const id of ['closure-from', 'closure-to']) $(`#${id}`).min = today; // the date picker offers no past day
  const upcoming = state.closures.filter((c) => c.to >= today);
  const list = $('#closure-list');
  dataList(
    list,
    upcoming,
    (closure) => {
      const days = closureDays(closure);
      return h(
        'li',
        { class: 'shop-item', 'data-testid': `closure-${closure.from}` },
        h('p', { class: 'shop-item-title' }, h('strong', { text: days })),
        h('p', { text: closure.reason }),
        (closure.hours || []).length
          ? h('p', {
              'data-testid': `closure-${closure.from}-hours`,
              text: t('shop.closure_only', { hours: closure.hours.map((r) => `${r.opens}–${r.closes}`).join(', ') }),
            })
          : null,
        h(
          'div',
          { class: 'item-actions' },
          h(
            'button',
            {
              type: 'button',
              class: 'btn btn-secondary btn-small btn-danger',
              'data-testid': `closure-${closure.from}-delete`,
              onclick: () => deleteClosure(closure),
            },
            t('shop.closure_delete'),
            h('span', { class: 'visually-hidden', text: ` ${days}` }),
          ),
        ),
      );
    },
    t('shop.no_closures'),
  );
}

async function loadClosures() {
  state.closures = await apiList(shopPath('/closures'));
  renderClosures();
}

async function saveClosure(event) {
  event.preventDefault();
  const ids = ['closure-from', 'closure-to', 'closure-reason', 'closure-opens', 'closure-closes'];
  clearFieldErrors(ids);
  say('closure-message');
  const from = $('#closure-from').value;
  const to = $('#closure-to').value || from;
  const reason = $('#closure-reason').value.trim();
  const opens = $('#closure-opens').value;
  const closes = $('#closure-closes').value;
  // the days first, as the service checks them: a closure that ends before it starts, or is over
  // already, would never be listed among the upcoming ones
  const missing = !from
    ? ['closure-from', 'shop.need_from']
    : to < from
      ? ['closure-to', 'shop.closure_backwards', { from: calendarDay(from), to: calendarDay(to) }]
      : to < romeToday()
        ? ['closure-to', 'shop.closure_over', { days: closureDays({ from, to }) }]
        : !reason
          ? ['closure-reason', 'shop.need_reason']
          : Boolean(opens) !== Boolean(closes)
            ? [opens ? 'closure-closes' : 'closure-opens', 'shop.closure_need_both_times']
            : null;
  if (missing) {
    fieldError(missing[0], t(missing[1], missing[2]));
    $(`#${missing[0]}`).focus();
    return;
  }
  const hours = opens ? [{ opens, closes }] : [];
  const fields = {
    'body.from': 'closure-from',
    'body.to': 'closure-to',
    'body.reason': 'closure-reason',
    'body.hours': 'closure-opens',
  };
  await sending(
    'closure-save',
    async () => {
      const closure = await call(shopPath('/closures'), { method: 'POST', json: { from, to, reason, hours } });
      $('#closure-form').reset();
      await loadClosures();
      say('closure-message', 'info', 'shop.closure_saved', { days: closureDays(closure) });
    },
    (error) => showRefusal(error, fields, 'closure-message', 'shop.closure_failed'),
  );
}

async function deleteClosure(closure) {
  const days = closureDays(closure);
  try {
    await call(shopPath(`/closures/${encodeURIComponent(closure.id)}`), { method: 'DELETE' });
    await loadClosures();
    say('closure-message', 'info', 'shop.closure_deleted', { days });
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return;
    say('closure-message', 'error', 'shop.closure_failed', {}, errorMessage(error));
  }
  $('#closures-title').focus();
}

// ---------------------------------------------------------------- documents

function size(bytes) {
  if (!Number.isFinite(bytes)) return DASH;
  return bytes >= 1024 * 1024 ? `${num(bytes / (1024 * 1024), 1)} MB` : `${num(Math.max(1, Math.round(bytes / 1024)))} KB`;
}

function documentFacts(doc) {
  return [TYPES[doc.content_type] || doc.content_type, size(doc.size), t('shop.uploaded_at', { time: dateTime(doc.uploaded_at) })].join(' · ');
}

function renderDocuments() {
  const list = $('#document-list');
  if (!state.documents.length) clear(list, h('li', { class: 'empty', text: t('shop.no_documents') }));
  else {
    clear(
      list,
      state.documents.map((doc) =>
        h(
          'li',
          { class: 'shop-item', 'data-testid': `document-${doc.id}` },
          h('p', { class: 'shop-item-title document-name' }, h('strong', { text: doc.filename || doc.id })),
          h('p', { class: 'muted small', text: documentFacts(doc) }),
          h(
            'div',
            { class: 'item-actions' },
            h(
              'button',
              {
                type: 'button',
                class: 'btn btn-secondary btn-small',
                'data-testid': `document-${doc.id}-download`,
                onclick: (event) => downloadDocument(doc, event.currentTarget),
              },
              t('shop.document_download'),
              h('span', { class: 'visually-hidden', text: ` ${doc.filename || doc.id}` }),
            ),
          ),
        ),
      ),
    );
  }
  renderCitable();
}

// The file needs the session's token, so a plain link cannot fetch it: it is read with the token
// and handed to the browser from a blob URL as a download under the name it was uploaded with.
async function downloadDocument(doc, button) {
  if (button.getAttribute('aria-busy') === 'true') return;
  const name = doc.filename || doc.id;
  button.setAttribute('aria-busy', 'true');
  say('document-message');
  try {
    const file = await apiFile(shopPath(`/documents/${encodeURIComponent(doc.id)}`), inPageLanguage({}));
    const url = URL.createObjectURL(file.blob);
    const link = h('a', { href: url, download: file.filename || name, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000); // the browser has taken the bytes by then
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return;
    say('document-message', 'error', 'shop.document_download_failed', { name }, errorMessage(error));
  } finally {
    button.removeAttribute('aria-busy');
  }
}

async function loadDocuments() {
  state.documents = await apiList(shopPath('/documents'));
  renderDocuments();
}

async function uploadDocument(event) {
  event.preventDefault();
  say('document-message');
  const input = $('#document-file');
  const file = input.files && input.files[0];
  if (!file) {
    say('document-message', 'error', 'shop.need_file');
    input.focus();
    return;
  }
  if (file.size > MAX_BYTES) {
    say('document-message', 'error', 'shop.document_too_large', { name: file.name });
    input.focus();
    return;
  }
  const form = new FormData();
  form.append('file', file, file.name);
  await sending(
    'document-upload',
    async () => {
      say('document-message', 'info', 'shop.document_uploading', { name: file.name });
      const known = new Set(state.documents.map((d) => d.id));
      const doc = await call(shopPath('/documents'), { method: 'POST', body: form });
      input.value = '';
      await loadDocuments();
      say('document-message', 'info', known.has(doc.id) ? 'shop.document_again' : 'shop.document_uploaded', { name: doc.filename || file.name });
    },
    (error) => {
      if (error instanceof ApiError && error.status === 401) return;
      const refusals = { 413: 'shop.document_too_large', 415: 'shop.document_not_accepted' };
      const key = error instanceof ApiError ? refusals[error.status] : undefined;
      if (key) say('document-message', 'error', key, { name: file.name });
      else say('document-message', 'error', 'shop.document_failed', { name: file.name }, errorMessage(error));
      input.focus();
    },
  );
}

// ---------------------------------------------------------------- historic recognition

function renderCitable() {
  const list = $('#recognition-documents');
  const checked = new Set([...list.querySelectorAll('input:checked')].map((box) => box.value));
  if (!state.documents.length) {
    clear(list, h('li', { class: 'empty', text: t('shop.cite_none') }));
    return;
  }
  clear(
    list,
    state.documents.map((doc) => {
      const id = `cite-${doc.id}`;
      return h(
        'li',
        { class: 'check-item' },
        h('input', { id, type: 'checkbox', value: doc.id, checked: checked.has(doc.id), 'data-testid': id }),
        h('label', { for: id }, doc.filename || doc.id, h('span', { class: 'muted small', text: ` (${TYPES[doc.content_type] || doc.content_type}, ${size(doc.size)})` })),
      );
    }),
  );
}

function renderRecognition() {
  $('#recognition-year').max = romeToday().slice(0, 4); // no founding year after this one
  const box = $('#recognition-state');
  const form = $('#recognition-form');
  const recognition = state.recognition;
  const historic = state.shop?.kind === 'historic';
  const waiting = recognition?.state === 'pending';
  form.hidden = historic || waiting;
  if (historic) {
    clear(box, h('p', { class: 'form-message', 'data-kind': 'info', 'data-testid': 'recognition-status', text: t('shop.recognised') }));
    return;
  }
  if (!recognition) {
    clear(box, h('p', { class: 'muted', 'data-testid': 'recognition-status', text: t('shop.recognition_none') }));
    return;
  }
  const cited = recognition.application?.documents || [];
  clear(
    box,
    h('p', { class: 'form-message', 'data-kind': recognition.state === 'rejected' ? 'error' : 'info', 'data-testid': 'recognition-status' },
      t(`shop.recognition_${recognition.state}`, { time: dateTime(recognition.applied_at) })),
    recognition.reason ? h('p', {}, `${t('shop.recognition_reason')} `, recognition.reason) : null,
    cited.length
      ? h(
          'div',
          {},
          h('p', { class: 'small', text: t('shop.recognition_cited') }),
          h('ul', { class: 'cited-list', 'data-testid': 'recognition-cited' }, cited.map((d) => h('li', { text: d.title || d.document_id || d.reference }))),
        )
      : null,
  );
}

async function loadRecognition() {
  try {
    state.recognition = await call(shopPath('/recognition'));
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 404)) throw error;
    state.recognition = null;
  }
  renderRecognition();
}

async function applyForRecognition(event) {
  event.preventDefault();
  const ids = ['recognition-year', 'recognition-trade', 'recognition-continuity', 'recognition-documents'];
  clearFieldErrors(ids);
  say('recognition-message');
  const year = Number.parseInt($('#recognition-year').value, 10);
  const trade = $('#recognition-trade').value.trim();
  const continuity = $('#recognition-continuity').value.trim();
  const chosen = [...$('#recognition-documents').querySelectorAll('input:checked')].map((box) => box.value);
  const thisYear = Number(romeToday().slice(0, 4));
  const missing = !Number.isFinite(year)
    ? ['recognition-year', 'shop.need_year']
    : year > thisYear
      ? ['recognition-year', 'shop.year_future']
      : year < 1000
        ? ['recognition-year', 'shop.year_too_early']
        : !trade
          ? ['recognition-trade', 'shop.need_trade']
          : !continuity
            ? ['recognition-continuity', 'shop.need_continuity']
            : !chosen.length
              ? ['recognition-documents', 'shop.need_documents']
              : null;
  if (missing) {
    fieldError(missing[0], t(missing[1]));
    const target = missing[0] === 'recognition-documents' ? $('#recognition-documents input') || $('#document-file') : $(`#${missing[0]}`);
    target.focus();
    return;
  }
  const documents = chosen
    .map((id) => state.documents.find((d) => d.id === id))
    .filter(Boolean)
    .map((doc) => ({ title: doc.filename || doc.id, kind: doc.content_type, document_id: doc.id }));
  const fields = {
    'body.founding_year': 'recognition-year',
    'body.trade': 'recognition-trade',
    'body.continuity': 'recognition-continuity',
    'body.documents': 'recognition-documents',
  };
  await sending(
    'recognition-submit',
    async () => {
      state.recognition = await call(shopPath('/recognition'), {
        method: 'POST',
        json: { founding_year: year, trade, continuity, documents },
      });
      $('#recognition-form').reset();
      renderRecognition();
      $('#recognition-state').focus();
    },
    (error) => showRefusal(error, fields, 'recognition-message', 'shop.recognition_failed'),
  );
}

// ---------------------------------------------------------------- wiring

function renderAll() {
  renderShop();
  renderServices();
  if (!$('#service-form').hidden) {
    renderServiceChoice();
    renderEditorTitle();
    renderDays();
  }
  renderClosures();
  renderDocuments();
  renderRecognition();
  for (const id of state.messages.keys()) renderMessage(id);
}

async function startShop(me) {
  state.me = me;
  const allowed = me.role === 'shopkeeper' && Boolean(me.scope);
  $('#role-notice').hidden = allowed;
  $('#shop-content').hidden = !allowed;
  if (!allowed) return;
  state.shopId = me.scope;
  renderAll();
  try {
    const [shop, catalogue] = await Promise.all([call(shopPath()), publicApi('/services/catalogue')]);
    state.shop = shop;
    state.catalogue = Array.isArray(catalogue?.items) ? catalogue.items : [];
    renderShop();
    await Promise.all([loadServices(), loadClosures(), loadDocuments(), loadRecognition()]);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return;
    say('shop-load-message', 'error', 'shop.load_failed', {}, errorMessage(error));
  }
}

function stopShop() {
  closeEditor();
  Object.assign(state, { me: null, shopId: null, shop: null, services: [], closures: [], documents: [], recognition: null });
  state.messages.clear();
}

const session = setupSession({ onSignedIn: startShop, onSignedOut: stopShop });

$('#service-add').addEventListener('click', () => openEditor(null));
$('#service-cancel').addEventListener('click', () => {
  const editing = state.editing;
  closeEditor();
  (editing ? $(`[data-testid="service-${CSS.escape(editing.service)}-edit"]`) : $('#service-add'))?.focus();
});
$('#service-form').addEventListener('submit', saveService);
$('#closure-form').addEventListener('submit', saveClosure);
$('#closure-from').addEventListener('change', () => {
  const to = $('#closure-to');
  if (!to.value || to.value < $('#closure-from').value) to.value = $('#closure-from').value;
});
$('#document-form').addEventListener('submit', uploadDocument);
$('#recognition-form').addEventListener('submit', applyForRecognition);

onLangChange(() => {
  session.retranslate();
  if (!$('#app-view').hidden && state.shopId) renderAll();
});

await initI18n();
session.start();
