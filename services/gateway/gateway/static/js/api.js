// Client for the gateway's /api/v1. The bearer token lives in sessionStorage (per tab, gone when
// the tab closes). The refresh token is an HttpOnly cookie scripts never see: the access token is
// renewed with it before it expires (and once more on a 401), so a page in use stays signed in.
// When renewal fails the token is cleared and control goes back to the page's login view.

import { currentLang, t } from './i18n.js';

const BASE = '/api/v1';
const TOKEN_KEY = 'milan.token';
const PAGE_SIZE = 500;
const MAX_PAGES = 20;

export class ApiError extends Error {
  constructor(status, problem = null, retryAfter = null) {
    super(problem && (problem.detail || problem.title) ? problem.detail || problem.title : `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
    this.retryAfter = retryAfter;
  }
}

let unauthorizedHandler = () => {};

export function onUnauthorized(fn) {
  unauthorizedHandler = fn;
}

export function getToken() {
  try {
    const raw = sessionStorage.getItem(TOKEN_KEY);
    if (!raw) return null;
    const { value, expiresAt } = JSON.parse(raw);
    if (typeof value !== 'string' || (expiresAt && Date.now() >= expiresAt)) {
      sessionStorage.removeItem(TOKEN_KEY);
      return null;
    }
    return value;
  } catch {
    return null;
  }
}

let renewTimer = null;
let renewing = null;

function saveToken(value, expiresIn) {
  const expiresAt = Number.isFinite(expiresIn) && expiresIn > 0 ? Date.now() + expiresIn * 1000 : null;
  sessionStorage.setItem(TOKEN_KEY, JSON.stringify({ value, expiresAt }));
  clearTimeout(renewTimer);
  // renew at three quarters of the lifetime, so a slow answer still arrives in time
  if (expiresAt) renewTimer = setTimeout(() => renewToken(), Math.max(1000, expiresIn * 750));
}

export function clearToken() {
  clearTimeout(renewTimer);
  try {
    sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // Nothing stored.
  }
}

// A new access token for the refresh cookie; one request at a time. True when renewed.
export function renewToken() {
  if (!renewing) {
    renewing = (async () => {
      try {
        const response = await fetch(`${BASE}/auth/refresh`, {
          method: 'POST',
          credentials: 'same-origin',
          headers: { Accept: 'application/json' },
        });
        const body = await readBody(response);
        if (!response.ok || !body || typeof body.access_token !== 'string') return false;
        saveToken(body.access_token, body.expires_in);
        return true;
      } catch {
        return false;
      } finally {
        renewing = null;
      }
    })();
  }
  return renewing;
}

// The current token, renewed first when it has expired (e.g. after the computer slept).
export async function freshToken() {
  return getToken() || ((await renewToken()) ? getToken() : null);
}

export async function logout() {
  const token = getToken();
  clearToken();
  try {
    await fetch(`${BASE}/auth/logout`, {
      method: 'POST',
      credentials: 'same-origin',
      headers: token ? { Authorization: `Bearer ${token}` } : {},
    });
  } catch {
    // Signed out locally; the session ends on the server when its tokens expire.
  }
}

async function readBody(response) {
  if (response.status === 204) return null;
  const type = response.headers.get('content-type') || '';
  if (!type.includes('json')) return null;
  try {
    return await response.json();
  } catch {
    return null;
  }
}

function retryAfterSeconds(response) {
  const value = Number.parseInt(response.headers.get('Retry-After') || '', 10);
  return Number.isFinite(value) ? value : null;
}

export async function login(username, password) {
  let response;
  try {
    response = await fetch(`${BASE}/auth/token`, {
      method: 'POST',
      headers: { Accept: 'application/json' },
      body: new URLSearchParams({ username, password }),
    });
  } catch {
    throw new ApiError(0);
  }
  const body = await readBody(response);
  if (!response.ok) throw new ApiError(response.status, body, retryAfterSeconds(response));
  if (!body || typeof body.access_token !== 'string') throw new ApiError(response.status, body);
  saveToken(body.access_token, body.expires_in);
}

// Idempotency keys (the IETF httpapi draft "The Idempotency-Key HTTP Header Field"): every POST
// carries a fresh random key, and a submission sent again while the first one's outcome is unknown
// (no answer, 502-504, or 409 "still running") carries the same key again, so the server answers it
// with the first result instead of creating the thing twice. The requests are not retried here.
const unsettled = new Map(); // "path\nJSON body" -> the key of a POST whose outcome is unknown

function keyFor(method, path, body) {
  if (method !== 'POST' || typeof crypto?.randomUUID !== 'function') return null;
  const submission = typeof body === 'string' ? `${path}\n${body}` : null;
  return { submission, key: (submission && unsettled.get(submission)) || crypto.randomUUID() };
}

function settle(keyed, status, problem) {
  if (!keyed?.submission) return;
  const inUse = status === 409 && String(problem?.type || '').endsWith('/idempotency-key-in-use');
  if (status === 0 || status === 502 || status === 503 || status === 504 || inUse) {
    unsettled.set(keyed.submission, keyed.key);
  } else {
    unsettled.delete(keyed.submission);
  }
}

// One authorised request, in the page's language (the services answer refusals in it): the token
// renewed when needed (and once more on a 401); a refusal is thrown as an ApiError carrying the
// problem. The successful response is returned unread.
async function send(path, options = {}, renewed = false) {
  // json: a value sent as JSON; body: sent as it is (a FormData for a file upload)
  const { method = 'GET', json, body: raw, headers = {}, signal } = options;
  const token = await freshToken();
  if (!token) {
    unauthorizedHandler();
    throw new ApiError(401);
  }
  const init = {
    method,
    signal,
    headers: { Accept: 'application/json', 'Accept-Language': currentLang(), Authorization: `Bearer ${token}`, ...headers },
  };
  if (json !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(json);
  } else if (raw !== undefined) {
    init.body = raw;
  }
  const keyed = options.keyed || keyFor(method, path, init.body);
  const response = await fetchKeyed(`${BASE}${path}`, init, keyed);
  if (response.status === 401 && !renewed) {
    // revoked or expired early: one renewal, then the same request again (under the same key)
    clearToken();
    if (await renewToken()) return send(path, { ...options, keyed }, true);
  }
  if (response.status === 401) {
    clearToken();
    unauthorizedHandler();
  }
  return answered(response, keyed);
}

// fetch() with the request's idempotency key, if it has one; no answer at all is an ApiError(0).
async function fetchKeyed(url, init, keyed) {
  if (keyed) init.headers['Idempotency-Key'] = `"${keyed.key}"`;
  try {
    return await fetch(url, init);
  } catch (error) {
    settle(keyed, 0);
    if (error.name === 'AbortError') throw error;
    throw new ApiError(0);
  }
}

// The response when it is a success; a refusal thrown as an ApiError carrying its problem.
async function answered(response, keyed) {
  if (response.ok) {
    settle(keyed, response.status);
    return response;
  }
  const problem = await readBody(response);
  settle(keyed, response.status, problem);
  throw new ApiError(response.status, problem, retryAfterSeconds(response));
}

export async function api(path, options = {}) {
  return readBody(await send(path, options));
}

// The same request, answered with its status too, for a write whose 200 and 201 mean different
// things (201: done now; 200: it was already so): {status, body}.
export async function apiAnswer(path, options = {}) {
  const response = await send(path, options);
  return { status: response.status, body: await readBody(response) };
}

// The name a response gives its file (Content-Disposition, RFC 6266: filename* first), or null.
function filenameOf(response) {
  const disposition = response.headers.get('content-disposition') || '';
  const extended = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(disposition);
  if (extended) {
    try {
      return decodeURIComponent(extended[1].trim());
    } catch {
      // Not percent-encoded as promised: try the plain name.
    }
  }
  const plain = /filename\s*=\s*"?([^";]+)"?/i.exec(disposition);
  return plain ? plain[1].trim() : null;
}

// A file behind the token (a shop's document): {blob, type, filename}, read whole into memory.
export async function apiFile(path, options = {}) {
  const response = await send(path, { ...options, headers: { Accept: '*/*', ...(options.headers || {}) } });
  const blob = await response.blob();
  return { blob, type: blob.type || response.headers.get('content-type') || '', filename: filenameOf(response) };
}

// Reads every page of a list endpoint ({items, total, limit, offset}, or a GeoJSON page whose
// features are the items).
export async function apiList(path, params = {}) {
  const items = [];
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const query = new URLSearchParams({ ...params, limit: String(PAGE_SIZE), offset: String(items.length) });
    const body = await api(`${path}?${query}`);
    const found = body?.type === 'FeatureCollection' ? body.features : body?.items;
    const batch = Array.isArray(found) ? found : [];
    items.push(...batch);
    const total = Number.isFinite(body?.total) ? body.total : items.length;
    if (batch.length === 0 || items.length >= total) break;
  }
  return items;
}

// A field's path as a 422 names it (`body.criteria.1.weight`, `path.date`), and the "path: message"
// the services compose their detail of when a request's shape is wrong.
const FIELD_PATH = /^(?:body|path|query|header|cookie)(?:\.[\w-]+)*: /;

function comparable(text) {
  return text.trim().replace(/[.;:]+$/, '').toLowerCase();
}

// A sentence begins with a capital letter: the services' texts begin lower-case ("il posteggio 99
// …") as they are written to follow a prefix. A first word that is a name or a code
// ("spuntista-bruno", "box12") is left as written.
export function sentence(text) {
  const s = String(text || '').trim();
  const word = /^[^\s,;:]+/.exec(s);
  if (!word || !/^\p{Ll}[\p{L}']*$/u.test(word[0])) return s;
  return s.charAt(0).toUpperCase() + s.slice(1);
}

// A refusal in words, said once: the service's detail, then the field messages that do not repeat
// it, never a field's raw path. `errors` (by default the problem's) are the field errors to word.
export function errorMessage(error, errors = undefined) {
  if (!(error instanceof ApiError)) return t('error.unexpected');
  if (error.status === 0) return t('error.network');
  if (error.status === 429 && error.retryAfter) return t('error.rate_limited', { seconds: error.retryAfter });
  const problem = error.problem || {};
  const listed = errors ?? (Array.isArray(problem.errors) ? problem.errors : []);
  const messages = listed.map((e) => String(e?.message || '').trim()).filter(Boolean);
  const parts = String(problem.detail || '').split('; ').filter(Boolean);
  // a detail composed of "path: message" pairs (a request of the wrong shape) is told by its messages
  const composed = parts.length > 0 && parts.every((part) => FIELD_PATH.test(part));
  const told = [(composed ? '' : problem.detail) || problem.title || t('error.http', { status: error.status })];
  for (const message of composed && !messages.length ? parts.map((part) => part.replace(FIELD_PATH, '')) : messages) {
    if (!told.some((said) => comparable(said).includes(comparable(message)))) told.push(message);
  }
  const [head, ...more] = told;
  return sentence(more.length ? `${head.replace(/[\s.:;]+$/, '')}: ${more.join('; ')}` : head);
}

// Anonymous calls (the citizens' page, a request for an account): no token is sent and a 401 is an
// error like any other. Refusals come in the page's language.
export async function publicApi(path, { signal, method = 'GET', json } = {}) {
  const init = { method, signal, headers: { Accept: 'application/json', 'Accept-Language': currentLang() } };
  if (json !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(json);
  }
  const keyed = keyFor(method, path, init.body);
  return readBody(await answered(await fetchKeyed(`${BASE}${path}`, init, keyed), keyed));
}
