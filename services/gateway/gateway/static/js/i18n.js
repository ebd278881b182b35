// Translations: Italian by default, English on request; the choice is kept in localStorage.
// Static text carries data-i18n="key" (text) or data-i18n-attr="attr:key;attr:key" (attributes).

const STORAGE_KEY = 'milan.lang';
export const LANGUAGES = ['it', 'en'];
const DEFAULT_LANG = 'it';
// How dates and numbers are written in each language: English as written in Europe (en-GB: day
// before month, 24-hour clock), not as the bare 'en' (US) would.
const LOCALES = { it: 'it-IT', en: 'en-GB' };

const dictionaries = new Map();
const listeners = new Set();
let lang = DEFAULT_LANG;
let dict = {};

function storedLang() {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    return LANGUAGES.includes(saved) ? saved : DEFAULT_LANG;
  } catch {
    return DEFAULT_LANG;
  }
}

async function load(code) {
  if (!dictionaries.has(code)) {
    const response = await fetch(`/static/i18n/${code}.json`, { headers: { Accept: 'application/json' } });
    if (!response.ok) throw new Error(`i18n ${code}: HTTP ${response.status}`);
    dictionaries.set(code, await response.json());
  }
  return dictionaries.get(code);
}

export function currentLang() {
  return lang;
}

// The locale Intl formats the current language's dates and numbers in.
export function currentLocale() {
  return LOCALES[lang] || lang;
}

// The text of `key` with its {placeholders} filled from `vars`. A value may be a function, called
// each time the text is made: a date or a status written in the language the text is made in, so
// a message made again after a change of language is all in the new one.
export function t(key, vars = {}) {
  const text = Object.hasOwn(dict, key) ? dict[key] : key;
  return text.replace(/\{(\w+)\}/g, (match, name) => {
    if (!(name in vars)) return match;
    const value = vars[name];
    return String(typeof value === 'function' ? value() : value);
  });
}

// Translate a value coming from the API (status, category, event type...) when the dictionary
// knows it; otherwise show the value itself, made readable when it is a snake_case identifier.
export function tOr(prefix, value) {
  if (value === undefined || value === null || value === '') return '';
  const key = `${prefix}.${value}`;
  if (Object.hasOwn(dict, key)) return dict[key];
  const text = String(value);
  if (!/^[a-z0-9_]+$/.test(text)) return text;
  const spaced = text.replace(/_/g, ' ');
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}

export function applyStatic(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-attr]')) {
    for (const pair of el.dataset.i18nAttr.split(';')) {
      const [attr, key] = pair.split(':').map((s) => s.trim());
      if (attr && key) el.setAttribute(attr, t(key));
    }
  }
}

export async function setLang(code, { persist = true } = {}) {
  dict = await load(code);
  lang = code;
  document.documentElement.lang = code;
  if (persist) {
    try {
      localStorage.setItem(STORAGE_KEY, code);
    } catch {
      // Storage can be disabled (private mode); the language still applies to this page.
    }
  }
  applyStatic();
  for (const button of document.querySelectorAll('[data-lang]')) {
    button.setAttribute('aria-pressed', String(button.dataset.lang === code));
  }
  for (const fn of listeners) fn(code);
}

export function onLangChange(fn) {
  listeners.add(fn);
}

export async function initI18n() {
  for (const button of document.querySelectorAll('[data-lang]')) {
    button.addEventListener('click', () => {
      if (button.dataset.lang !== lang) setLang(button.dataset.lang);
    });
  }
  await setLang(storedLang(), { persist: false });
}
