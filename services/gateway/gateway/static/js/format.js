// Locale-aware formatting. Missing values (the back-end adds fields over time) render as a dash.

import { currentLocale } from './i18n.js';

export const DASH = '–';
export const TIME_ZONE = 'Europe/Rome';

export function isNum(value) {
  return typeof value === 'number' && Number.isFinite(value);
}

export function num(value, digits = 0) {
  if (!isNum(value)) return DASH;
  return new Intl.NumberFormat(currentLocale(), { maximumFractionDigits: digits }).format(value);
}

// Rates are fractions 0–1 (occupancy_rate, stall_occupancy).
export function pct(fraction, digits = 0) {
  if (!isNum(fraction)) return DASH;
  return new Intl.NumberFormat(currentLocale(), { style: 'percent', maximumFractionDigits: digits }).format(fraction);
}

// A file's size in bytes, as people read it: 512 B, 12,5 KB, 3,1 MB.
export function fileSize(bytes) {
  if (!isNum(bytes)) return DASH;
  if (bytes < 1024) return `${num(bytes)} B`;
  if (bytes < 1024 * 1024) return `${num(bytes / 1024, 1)} KB`;
  return `${num(bytes / (1024 * 1024), 1)} MB`;
}

function toDate(value) {
  if (!value) return null;
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

// A moment in Milan, its year written whole: "06/01/2027, 11:28" (it-IT and en-GB alike).
export function dateTime(value) {
  const date = toDate(value);
  if (!date) return DASH;
  return new Intl.DateTimeFormat(currentLocale(), {
    day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: TIME_ZONE,
  }).format(date);
}

export function time(value) {
  const date = toDate(value);
  if (!date) return DASH;
  return new Intl.DateTimeFormat(currentLocale(), { timeStyle: 'medium', timeZone: TIME_ZONE }).format(date);
}

export function isoOrEmpty(value) {
  const date = toDate(value);
  return date ? date.toISOString() : '';
}

export function ago(value, now = Date.now()) {
  const date = toDate(value);
  if (!date) return DASH;
  const seconds = Math.round((date.getTime() - now) / 1000);
  const rtf = new Intl.RelativeTimeFormat(currentLocale(), { numeric: 'auto' });
  const abs = Math.abs(seconds);
  if (abs < 60) return rtf.format(seconds, 'second');
  if (abs < 3600) return rtf.format(Math.round(seconds / 60), 'minute');
  if (abs < 86400) return rtf.format(Math.round(seconds / 3600), 'hour');
  return rtf.format(Math.round(seconds / 86400), 'day');
}

// The instant a wall-clock time in Milan names: '2026-12-31T12:00' (or with seconds), as typed in
// a datetime-local field, read in Europe/Rome whatever the browser's own time zone. Null when the
// text is not such a time.
export function romeWallTime(value) {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(String(value || ''));
  if (!match) return null;
  const [year, month, day, hour, minute, second] = match.slice(1).map((part) => Number(part || 0));
  const wall = Date.UTC(year, month - 1, day, hour, minute, second);
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: TIME_ZONE, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  });
  const offsetAt = (instant) => {
    const p = Object.fromEntries(parts.formatToParts(new Date(instant)).map((x) => [x.type, Number(x.value)]));
    return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - instant;
  };
  // Two rounds settle the offset also across a change of summer time.
  let instant = wall - offsetAt(wall);
  instant = wall - offsetAt(instant);
  const date = new Date(instant);
  return Number.isNaN(date.getTime()) || new Date(wall).getUTCDate() !== day ? null : date;
}

// A calendar day 'YYYY-MM-DD' (a closure's from/to) as the reader writes dates; the text itself
// when it is not such a day.
export function calendarDay(value) {
  const date = /^\d{4}-\d{2}-\d{2}$/.test(String(value || '')) ? new Date(`${value}T12:00:00Z`) : null;
  if (!date || Number.isNaN(date.getTime())) return value ? String(value) : DASH;
  return new Intl.DateTimeFormat(currentLocale(), { weekday: 'short', day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' }).format(date);
}

// The day an instant falls on in Milan, 'YYYY-MM-DD'; '' when it is not an instant.
export function romeDay(value) {
  const date = toDate(value);
  if (!date) return '';
  return new Intl.DateTimeFormat('en-CA', { timeZone: TIME_ZONE, year: 'numeric', month: '2-digit', day: '2-digit' }).format(date);
}

// Today's date in Milan, 'YYYY-MM-DD', shifted by whole days.
export function romeToday(days = 0) {
  return romeDay(Date.now() + days * 86_400_000);
}

// A calendar day 'YYYY-MM-DD' shifted by whole days.
export function shiftDay(day, days) {
  const date = new Date(`${day}T12:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

// From one instant to the next as the reader says it, in Milan: "mer 4 mag 2027, 18:00–20:00"
// within a day, both days written when it runs over midnight.
export function period(start, end) {
  const from = toDate(start);
  const to = toDate(end);
  if (!from || !to) return DASH;
  const format = new Intl.DateTimeFormat(currentLocale(), {
    weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZone: TIME_ZONE,
  });
  return format.formatRange(from, to);
}

// The name of a weekday, 0 = Monday … 6 = Sunday, capitalised ("Lunedì", "Monday").
export function weekday(day, style = 'long') {
  const name = new Intl.DateTimeFormat(currentLocale(), { weekday: style, timeZone: 'UTC' }).format(new Date(Date.UTC(2024, 0, 1 + day)));
  return name.charAt(0).toUpperCase() + name.slice(1);
}

// A change, with its sign: "+1,5", "-0,5", "0".
export function signed(value, digits = 0) {
  if (!isNum(value)) return DASH;
  return new Intl.NumberFormat(currentLocale(), { maximumFractionDigits: digits, signDisplay: 'exceptZero' }).format(value);
}
