// A market's social and cultural spaces (pages/parts/spaces.html), on the office's workspace and on
// the operators' page: the spaces, a space's bookings over chosen days, booking a slot and cancelling
// one (after a confirmation, in a row under the booking's). The office also adds spaces. A booking
// refused because the slot is taken names, in words, the booking it collides with; every other
// refusal goes next to the field it names.

import { ApiError, api, apiList, errorMessage } from './api.js';
import { $, clear, h, keepFocus } from './dom.js';
import { clearFieldErrors, current, dataTable, errorPanel, rowButton, sayer, setFieldError, showInvalid, showProblem, startSubmit } from './forms.js';
import { DASH, calendarDay, num, period, romeDay, romeToday, romeWallTime, shiftDay } from './format.js';
import { currentLang, t } from './i18n.js';

const SPACE_CODE = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const MAX_DAYS = 31;
const enc = encodeURIComponent;

const say = sayer('#spaces-message');
const setError = errorPanel('#spaces-error');

// options: manage — the office: picks the market here and adds spaces; me() — the signed-in account.
export function setupSpaces({ manage = false, me = () => null } = {}) {
  // confirming: the id of the booking whose cancellation waits for its confirmation
  const state = { marketId: null, markets: [], spaces: [], space: null, bookings: [], collidesWith: null, confirming: null };
  const base = () => `/markets/${enc(state.marketId)}/spaces`;
  const spaceName = (code) => state.spaces.find((s) => s.code === code)?.name || code;

  // The office, the market's operators and who booked it may cancel a booking.
  function mayCancel(booking) {
    const who = me();
    if (!who) return false;
    if (who.role === 'commerce_office') return true;
    if (who.role === 'market_operator' && who.scope === state.marketId) return true;
    return booking.booked_by === who.username;
  }

  // A list the section shows: what `read()` answers (the panel's error hidden), or null when the
  // answer came for a choice no longer made (`wanted()` false) or the session has ended (401: it
  // asks to sign in again); any other failure shows in the panel and leaves the list empty.
  async function readList(read, wanted) {
    try {
      const list = await read();
      if (!wanted()) return null;
      setError(null);
      return list;
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return null;
      setError(error);
      return [];
    }
  }

  // ---------------------------------------------------------------- spaces

  function renderSpaces() {
    const market = state.markets.find((m) => m.id === state.marketId);
    $('#spaces-agenda').href = `/agenda?market=${enc(state.marketId || '')}`;
    keepFocus(() => dataTable($('#spaces-table'), {
      caption: t('spaces.caption', { market: market?.name || state.marketId || DASH }),
      heads: [t('spaces.name'), t('spaces.code'), { text: t('spaces.capacity'), num: true }, t('spaces.bookings')],
      empty: t('spaces.none'),
      rows: state.spaces.map((s) => h(
        'tr',
        { 'data-testid': `space-row-${s.code}`, class: state.space === s.code ? 'selected-row' : '' },
        h('th', { scope: 'row', text: s.name }),
        h('td', {}, h('code', { text: s.code })),
        h('td', { class: 'num', text: num(s.capacity) }),
        h('td', {}, current(rowButton(`space-open-${s.code}`, t('spaces.open'), t('spaces.open_named', { name: s.name }), () => openSpace(s.code)), state.space === s.code)),
      )),
    }));
  }

  function renderMarkets() {
    clear($('#spaces-market'), state.markets.map((m) => h('option', { value: m.id, selected: m.id === state.marketId, text: m.name || m.id })));
  }

  async function loadSpaces() {
    const marketId = state.marketId;
    const spaces = await readList(() => api(base()), () => marketId === state.marketId);
    if (!spaces) return;
    state.spaces = Array.isArray(spaces) ? spaces : [];
    if (!state.spaces.some((s) => s.code === state.space)) state.space = null;
    renderSpaces();
    renderSpace();
  }

  async function createSpace(event) {
    const form = event.currentTarget;
    const message = $('#space-form-message');
    startSubmit(event, form, message);
    const code = $('#space-code');
    const name = $('#space-name');
    const capacity = $('#space-capacity');
    const problems = [];
    if (!code.value.trim()) problems.push([code, t('calls.err.required')]);
    else if (!SPACE_CODE.test(code.value.trim())) problems.push([code, t('spaces.err.code')]);
    if (!name.value.trim()) problems.push([name, t('calls.err.required')]);
    const people = Number(capacity.value);
    if (!Number.isInteger(people) || people < 1 || people > 100_000) problems.push([capacity, t('spaces.err.capacity')]);
    if (problems.length) {
      showInvalid(problems, message, say);
      return;
    }
    try {
      const space = await api(base(), { method: 'POST', json: { code: code.value.trim(), name: name.value.trim(), capacity: people } });
      form.reset();
      await loadSpaces();
      openSpace(space.code);
      say('success', t('spaces.created', { name: space.name }));
    } catch (error) {
      showProblem(form, error, message, say);
    }
  }

  // ---------------------------------------------------------------- a space's bookings

  function openSpace(code) {
    state.space = code;
    state.collidesWith = null;
    state.confirming = null;
    clearFieldErrors($('#booking-form'));
    $('#booking-form-message').textContent = '';
    say('info', '');
    renderSpaces();
    renderSpace();
    loadBookings().then(() => $('#bookings-title').focus());
  }

  function renderSpace() {
    const box = $('#space-bookings');
    box.hidden = !state.space;
    if (!state.space) return;
    $('#bookings-title').textContent = t('spaces.bookings_of', { name: spaceName(state.space) });
    renderCollision();
    renderBookings();
  }

  function range() {
    const from = $('#bookings-from').value;
    const to = $('#bookings-to').value;
    return { from, to };
  }

  function renderBookings() {
    const { from, to } = range();
    keepFocus(() => dataTable($('#bookings-table'), {
      caption: t('spaces.bookings_caption', { name: spaceName(state.space), from: calendarDay(from), to: calendarDay(to), n: state.bookings.length }),
      heads: [t('spaces.event'), t('spaces.when'), t('spaces.organiser'), t('spaces.visibility'), t('spaces.booked_by'), t('spaces.action')],
      empty: t('spaces.no_bookings'),
      rows: state.bookings.flatMap((b) => [
        h(
          'tr',
          { 'data-testid': `booking-row-${b.id}`, class: state.collidesWith?.id === b.id ? 'selected-row' : '' },
          h('th', { scope: 'row', text: b.title }),
          h('td', { text: period(b.starts_at, b.ends_at) }),
          h('td', { text: b.organiser }),
          h('td', { text: t(b.public ? 'spaces.is_public' : 'spaces.is_private') }),
          h('td', { text: b.booked_by || DASH }),
          h('td', {}, mayCancel(b) ? cancelButton(b) : DASH),
        ),
        state.confirming === b.id ? confirmRow(b) : null,
      ].filter(Boolean)),
    }));
  }

  // ---------------------------------------------------------------- cancelling, once confirmed

  const cancelKey = (b) => `booking-cancel-${b.id}`;

  function cancelButton(b) {
    const button = rowButton(cancelKey(b), t('spaces.cancel'), t('spaces.cancel_named', { title: b.title }), () => askCancel(b));
    button.setAttribute('aria-expanded', String(state.confirming === b.id));
    return button;
  }

  // The question under the booking's row, across the table: Escape or "No" keeps the booking.
  function confirmRow(b) {
    return h(
      'tr',
      { class: 'confirm-row', 'data-testid': `booking-confirm-${b.id}` },
      h(
        'td',
        { colspan: '6' },
        h(
          'div',
          { class: 'confirm', role: 'group', 'aria-labelledby': 'booking-confirm-text', onkeydown: (event) => { if (event.key === 'Escape') keepBooking(b); } },
          h('p', { id: 'booking-confirm-text', text: t('spaces.cancel_confirm_text', { title: b.title, organiser: b.organiser, when: period(b.starts_at, b.ends_at) }) }),
          h(
            'div',
            { class: 'form-actions' },
            h('button', { type: 'button', id: 'booking-confirm-button', class: 'btn btn-primary', 'data-focus-key': 'booking-confirm', text: t('spaces.cancel_confirm'), onclick: (event) => cancelBooking(event.currentTarget, b) }),
            h('button', { type: 'button', class: 'btn btn-secondary', 'data-focus-key': 'booking-keep', text: t('spaces.cancel_keep'), onclick: () => keepBooking(b) }),
          ),
        ),
      ),
    );
  }

  function askCancel(b) {
    state.confirming = b.id;
    say('info', ''); // an earlier outcome is not this question's
    renderBookings();
    $('#booking-confirm-button').focus();
  }

  function keepBooking(b) {
    state.confirming = null;
    renderBookings();
    document.querySelector(`[data-focus-key="${CSS.escape(cancelKey(b))}"]`)?.focus();
  }

  // `from`..`to` (both days included) as the API's [from, to) in Milan time.
  function query(from, to) {
    return { from: `${from}T00:00:00`, to: `${shiftDay(to, 1)}T00:00:00` };
  }

  async function loadBookings() {
    if (!state.space) return;
    const { from, to } = range();
    const space = state.space;
    const bookings = await readList(() => apiList(`${base()}/${enc(space)}/bookings`, query(from, to)), () => space === state.space);
    if (!bookings) return;
    state.bookings = bookings;
    renderBookings();
  }

  async function showRange(event) {
    const form = event.currentTarget;
    const message = $('#bookings-range-message');
    startSubmit(event, form, message);
    const fromInput = $('#bookings-from');
    const toInput = $('#bookings-to');
    const { from, to } = range();
    const problems = [];
    if (!DAY.test(from)) problems.push([fromInput, t('spaces.err.day')]);
    if (!DAY.test(to)) problems.push([toInput, t('spaces.err.day')]);
    else if (DAY.test(from) && to < from) problems.push([toInput, t('spaces.err.to_before_from')]);
    if (problems.length) {
      showInvalid(problems, message, say);
      return;
    }
    await loadBookings();
    say('info', t('spaces.shown', { n: state.bookings.length }));
  }

  // ---------------------------------------------------------------- booking

  function validateBooking() {
    const problems = [];
    const title = $('#booking-title');
    const organiser = $('#booking-organiser');
    const startsInput = $('#booking-starts');
    const endsInput = $('#booking-ends');
    if (!title.value.trim()) problems.push([title, t('calls.err.required')]);
    if (!organiser.value.trim()) problems.push([organiser, t('calls.err.required')]);
    const starts = romeWallTime(startsInput.value);
    const ends = romeWallTime(endsInput.value);
    if (!startsInput.value) problems.push([startsInput, t('calls.err.required')]);
    else if (!starts) problems.push([startsInput, t('spaces.err.time')]);
    else if (starts.getTime() < Date.now()) problems.push([startsInput, t('spaces.err.past')]);
    if (!endsInput.value) problems.push([endsInput, t('calls.err.required')]);
    else if (!ends) problems.push([endsInput, t('spaces.err.time')]);
    else if (starts && ends <= starts) problems.push([endsInput, t('spaces.err.ends_before')]);
    else if (starts && ends - starts > MAX_DAYS * 86_400_000) problems.push([endsInput, t('spaces.err.too_long', { days: MAX_DAYS })]);
    return {
      problems,
      body: {
        title: title.value.trim(),
        organiser: organiser.value.trim(),
        starts_at: starts ? starts.toISOString() : startsInput.value,
        ends_at: ends ? ends.toISOString() : endsInput.value,
        public: $('#booking-public').checked,
      },
    };
  }

  // The booking a refused one collides with, in words (the service's own words when it cannot be read).
  function collisionText(other) {
    return other.title
      ? t('spaces.collides', { title: other.title, organiser: other.organiser, when: period(other.starts_at, other.ends_at), by: other.booked_by || DASH })
      : other.detail;
  }

  function renderCollision() {
    const box = $('#booking-collision');
    const other = state.collidesWith;
    box.hidden = !other;
    if (!other) {
      clear(box);
      return;
    }
    clear(
      box,
      h('p', {}, h('strong', { text: `${t('spaces.taken')} ` }), collisionText(other)),
      h('p', { class: 'small', text: t('spaces.collides_hint') }),
    );
  }

  // The booking a 409 names: looked up among the space's bookings over the period asked for.
  async function collision(problem, body) {
    const id = problem.booking;
    try {
      const found = await apiList(`${base()}/${enc(state.space)}/bookings`, { from: body.starts_at, to: body.ends_at });
      const other = found.find((b) => b.id === id);
      if (other) return other;
    } catch {
      // The booking cannot be read: the service's own words say which it is.
    }
    return { id, detail: problem.detail || '' };
  }

  async function book(event) {
    const form = event.currentTarget;
    const message = $('#booking-form-message');
    startSubmit(event, form, message);
    state.collidesWith = null;
    renderCollision();
    const { problems, body } = validateBooking();
    if (problems.length) {
      showInvalid(problems, message, say);
      return;
    }
    const submit = form.querySelector('[type="submit"]');
    submit.disabled = true;
    try {
      const booking = await api(`${base()}/${enc(state.space)}/bookings`, { method: 'POST', json: body });
      form.reset();
      const day = romeDay(booking.starts_at);
      const { from, to } = range();
      if (day < from || day > to) {
        $('#bookings-from').value = day;
        $('#bookings-to').value = shiftDay(day, 30);
      }
      await loadBookings();
      say('success', t('spaces.booked', { title: booking.title, when: period(booking.starts_at, booking.ends_at) }));
      $('#bookings-title').focus();
    } catch (error) {
      const problem = error instanceof ApiError ? error.problem || {} : {};
      if (error instanceof ApiError && error.status === 409 && problem.code === 'space-booked') {
        state.collidesWith = await collision(problem, body);
        setFieldError($('#booking-starts'), t('spaces.taken'));
        renderCollision();
        renderBookings();
        // the box, focused, says it (and is read out): the message bar keeps no earlier outcome
        say(null, '');
        $('#booking-collision').focus();
      } else {
        showProblem(form, error, message, say);
      }
    } finally {
      submit.disabled = false;
    }
  }

  async function cancelBooking(button, booking) {
    button.disabled = true;
    try {
      await api(`${base()}/${enc(state.space)}/bookings/${enc(booking.id)}`, { method: 'DELETE' });
      if (state.collidesWith?.id === booking.id) state.collidesWith = null;
      state.confirming = null;
      await loadBookings();
      renderCollision();
      say('success', t('spaces.cancelled', { title: booking.title }));
      $('#bookings-title').focus();
    } catch (error) {
      keepBooking(booking);
      say('error', `${t('spaces.cancel_refused', { title: booking.title })} ${errorMessage(error)}`);
    }
  }

  // ---------------------------------------------------------------- wiring

  function resetRange() {
    $('#bookings-from').value = romeToday();
    $('#bookings-to').value = romeToday(30);
  }

  $('#space-form').hidden = !manage;
  $('#spaces-market-field').hidden = !manage;
  $('#space-form').addEventListener('submit', createSpace);
  $('#bookings-range').addEventListener('submit', showRange);
  $('#booking-form').addEventListener('submit', book);
  $('#spaces-market').addEventListener('change', (event) => show(event.target.value));
  resetRange();

  async function show(marketId) {
    Object.assign(state, { marketId, spaces: [], space: null, bookings: [], collidesWith: null, confirming: null });
    say('info', '');
    renderMarkets();
    renderSpaces();
    renderSpace();
    await loadSpaces();
  }

  return {
    show,
    // the office's own market choice: every market, the first one shown
    async showMarkets() {
      try {
        state.markets = (await apiList('/markets')).filter((m) => m && m.id);
        state.markets.sort((a, b) => String(a.name || a.id).localeCompare(String(b.name || b.id), currentLang()));
      } catch (error) {
        setError(error);
        return;
      }
      const keep = state.markets.some((m) => m.id === state.marketId);
      await show(keep ? state.marketId : state.markets[0]?.id || null);
    },
    setMarkets(markets) {
      state.markets = markets;
    },
    // a booking or space event: the lists follow
    refresh() {
      if (!state.marketId) return;
      loadSpaces().then(loadBookings);
    },
    stop() {
      Object.assign(state, { marketId: null, spaces: [], space: null, bookings: [], collidesWith: null, confirming: null });
      resetRange();
      say('info', '');
      $('#space-bookings').hidden = true;
    },
    retranslate() {
      if (!state.marketId) return;
      renderMarkets();
      renderSpaces();
      renderSpace();
    },
  };
}
