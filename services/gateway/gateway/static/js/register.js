// Request for an account, anonymous: a shopkeeper (naming a shop the platform has, or proposing a
// new one placed on the map) or a market trader asks; the commerce office decides. The answer is the
// same whether or not the username is free, so the page never says whether an account exists: the
// office sees that and writes back.

import { errorMessage, publicApi } from './api.js';
import { $, clear, h } from './dom.js';
import { USERNAME, sayer, setFieldError, showInvalid, showProblem, startSubmit, whileSending } from './forms.js';
import { initI18n, onLangChange, t } from './i18n.js';
import { PlaceMap } from './map.js';
import { COORD_DIGITS, devicePosition, parseCoord } from './position.js';

const ROLES = ['shopkeeper', 'trader'];
const SEARCH_LIMIT = 10;

const state = {
  found: null, // the shops of the last search, or null before any
  searchError: null,
  sentTo: null, // the e-mail of the request sent
};
let placeMap = null;
const say = sayer('#register-live');

const checked = (name) => document.querySelector(`input[name="${name}"]:checked`)?.value || '';

// ---------------------------------------------------------------- what is shown

function renderParts() {
  const shopkeeper = checked('role') === 'shopkeeper';
  const choice = checked('shop_choice');
  $('#register-shop').hidden = !shopkeeper;
  $('#register-existing').hidden = !shopkeeper || choice !== 'existing';
  $('#register-proposal').hidden = !shopkeeper || choice !== 'new';
  if (!$('#register-proposal').hidden) ensureMap();
}

function shopLabel(shop) {
  const kind = t(`register.kind_${shop.kind}`);
  return [shop.name, shop.address, kind].filter(Boolean).join(' — ');
}

function renderFound() {
  const status = $('#register-shop-status');
  const results = $('#register-shop-results');
  const chosen = checked('shop_id');
  if (state.searchError) {
    status.textContent = `${t('register.search_failed')} ${state.searchError}`;
  } else if (state.found === null) {
    status.textContent = '';
  } else if (state.found.length === 0) {
    status.textContent = t('register.found_none');
  } else {
    status.textContent = t(state.found.length === 1 ? 'register.found_one' : 'register.found_many', { count: state.found.length });
  }
  const shops = state.found || [];
  results.hidden = shops.length === 0;
  clear(
    $('#register-shop-list'),
    shops.map((shop) =>
      h(
        'div',
        { class: 'check-item' },
        h('input', { id: `register-shop-${shop.id}`, type: 'radio', name: 'shop_id', value: shop.id, checked: shop.id === chosen, 'data-testid': `register-shop-${shop.id}` }),
        h('label', { for: `register-shop-${shop.id}`, text: shopLabel(shop) }),
      ),
    ),
  );
}

function renderDone() {
  const sent = state.sentTo !== null;
  $('#register-form').hidden = sent;
  $('#register-done').hidden = !sent;
  if (sent) $('#register-done-text').textContent = t('register.done', { email: state.sentTo });
}

// ---------------------------------------------------------------- the shop: found or placed

async function searchShops() {
  const q = $('#register-shop-q').value.trim();
  setFieldError($('#register-shop-q'), '');
  if (!q) {
    setFieldError($('#register-shop-q'), t('register.err.search_words'));
    $('#register-shop-q').focus();
    return;
  }
  const button = $('#register-shop-search');
  button.disabled = true;
  $('#register-shop-status').textContent = t('register.searching');
  try {
    const params = new URLSearchParams({ q, status: 'active', limit: String(SEARCH_LIMIT) });
    state.found = (await publicApi(`/shops?${params}`)).items;
    state.searchError = null;
  } catch (error) {
    state.found = null;
    state.searchError = errorMessage(error);
  } finally {
    button.disabled = false;
  }
  renderFound();
}

function showCoords(lat, lon) {
  $('#register-lat').value = lat.toFixed(COORD_DIGITS);
  $('#register-lon').value = lon.toFixed(COORD_DIGITS);
  setFieldError($('#register-lat'), '');
  setFieldError($('#register-lon'), '');
}

function placedOnMap(lat, lon) {
  showCoords(lat, lon);
  say('info', t('register.placed', { lat: lat.toFixed(COORD_DIGITS), lon: lon.toFixed(COORD_DIGITS) }));
}

// Coordinates typed in the fields move the marker there.
function typedCoords() {
  const lat = parseCoord($('#register-lat').value, -90, 90);
  const lon = parseCoord($('#register-lon').value, -180, 180);
  if (lat !== null && lon !== null) placeMap?.place(lat, lon);
}

async function locate() {
  const button = $('#register-locate');
  button.disabled = true;
  say('info', t('near.locating'));
  try {
    const { lat, lon } = await devicePosition();
    showCoords(lat, lon);
    placeMap?.place(lat, lon);
    say('info', t('register.placed', { lat: lat.toFixed(COORD_DIGITS), lon: lon.toFixed(COORD_DIGITS) }));
  } catch (error) {
    const key = error.message === 'unsupported' ? 'register.no_geolocation' : 'register.position_denied';
    setFieldError($('#register-lat'), t(key));
    say('error', t(key));
  } finally {
    button.disabled = false;
  }
}

function ensureMap() {
  if (placeMap) return;
  placeMap = new PlaceMap($('#register-map'), { onPlace: placedOnMap });
  typedCoords();
  // the neighbourhoods help to find the street; the map works without them
  publicApi('/nils.geojson')
    .then((outlines) => placeMap.setNils(outlines))
    .catch(() => {});
}

// ---------------------------------------------------------------- the request

function required(input, key) {
  return input.value.trim() ? null : [input, t(key)];
}

function shopProblems() {
  const choice = checked('shop_choice');
  if (!choice) return [[$('#register-shop'), t('register.err.shop_choice')]];
  if (choice === 'existing') return checked('shop_id') ? [] : [[$('#register-shop-q'), t('register.err.shop_pick')]];
  const problems = [required($('#register-shop-name'), 'register.err.shop_name'), required($('#register-shop-address'), 'register.err.shop_address')];
  const lat = $('#register-lat');
  const lon = $('#register-lon');
  if (!lat.value.trim() && !lon.value.trim()) problems.push([lat, t('register.err.place')]);
  else {
    if (parseCoord(lat.value, -90, 90) === null) problems.push([lat, t('near.bad_lat')]);
    if (parseCoord(lon.value, -180, 180) === null) problems.push([lon, t('near.bad_lon')]);
  }
  return problems.filter(Boolean);
}

// The form's values checked here first, each problem next to its field.
function readForm() {
  const role = checked('role');
  const fullName = $('#register-full-name');
  const email = $('#register-email');
  const username = $('#register-username');
  const problems = [];
  if (!role) problems.push([$('#register-role'), t('register.err.role')]);
  if (fullName.value.trim().length < 2) problems.push([fullName, t('register.err.full_name')]);
  if (!email.value.trim()) problems.push([email, t('register.err.email_missing')]);
  else if (email.validity.typeMismatch) problems.push([email, t('register.err.email')]);
  if (!username.value.trim()) problems.push([username, t('register.err.username_missing')]);
  else if (!USERNAME.test(username.value.trim())) problems.push([username, t('accounts.err.username')]);
  if (role === 'shopkeeper') problems.push(...shopProblems());
  if (problems.length) return { problems };
  const body = {
    role,
    username: username.value.trim().toLowerCase(),
    email: email.value.trim(),
    full_name: fullName.value.trim(),
    message: $('#register-message').value.trim(),
  };
  if (role === 'shopkeeper') body.shop = checked('shop_choice') === 'existing' ? checked('shop_id') : proposal();
  return { body };
}

function proposal() {
  return {
    name: $('#register-shop-name').value.trim(),
    address: $('#register-shop-address').value.trim(),
    kind: $('#register-shop-kind').value,
    trade: $('#register-shop-trade').value.trim(),
    location: { lat: parseCoord($('#register-lat').value, -90, 90), lon: parseCoord($('#register-lon').value, -180, 180) },
  };
}

async function submit(event) {
  const form = $('#register-form');
  const message = $('#register-form-message');
  startSubmit(event, form, message);
  const { body, problems } = readForm();
  if (problems) {
    showInvalid(problems, message, say);
    return;
  }
  await whileSending(form, $('#register-submit'), async () => {
    try {
      await publicApi('/registrations', { method: 'POST', json: body });
      state.sentTo = body.email;
      renderDone();
      $('#register-done').focus();
    } catch (error) {
      showProblem(form, error, message, say);
    }
  });
}

// ---------------------------------------------------------------- start

async function start() {
  await initI18n();
  const asked = new URLSearchParams(window.location.search).get('role');
  if (ROLES.includes(asked)) $(`#register-role-${asked}`).checked = true;
  for (const input of document.querySelectorAll('input[name="role"], input[name="shop_choice"]')) {
    input.addEventListener('change', renderParts);
  }
  $('#register-shop-search').addEventListener('click', searchShops);
  $('#register-shop-q').addEventListener('keydown', (event) => {
    if (event.key !== 'Enter') return;
    event.preventDefault(); // Enter here searches; it does not send the request
    searchShops();
  });
  $('#register-lat').addEventListener('change', typedCoords);
  $('#register-lon').addEventListener('change', typedCoords);
  $('#register-locate').addEventListener('click', locate);
  $('#register-form').addEventListener('submit', submit);
  onLangChange(() => {
    renderFound();
    renderDone();
  });
  renderParts();
  document.body.dataset.ready = 'true';
}

start();
