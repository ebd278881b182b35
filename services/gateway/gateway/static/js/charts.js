// District trends: one chart per KPI over a chosen period (uPlot, vendored), each with a sentence
// and a data table, so the figures can be read without seeing the chart or telling colours apart.
// The same charts serve the overview's trends card (which has its own district chooser) and the
// Distretti section (whose district is chosen for the whole section and handed over with show()).

import { api, errorMessage } from './api.js';
import { $, clear, h } from './dom.js';
import { DASH, TIME_ZONE, dateTime, isNum, num, pct } from './format.js';
import { currentLocale, t } from './i18n.js';

// the district time series the office follows, and how each value reads (also the indicators an
// intervention's impact is measured on)
export const METRICS = [
  ['vitality_index', (v) => num(v, 1)],
  ['stall_occupancy', (v) => pct(v)],
  ['stalls_open', (v) => num(v)],
  ['shops_active', (v) => num(v)],
  ['services_total', (v) => num(v)],
];
const RANGES = [1, 7, 30, 92]; // days back from now, each named by trends.range.<days>
const DEFAULT_RANGE = 7;
const DAY_MS = 24 * 60 * 60 * 1000;
const HEIGHT = 170;
const REFRESH_AFTER_KPIS_MS = 5000;
const DAY_S = 24 * 60 * 60;
const MONTH_S = 28 * DAY_S;

// The time axis's labels (`seconds` since the epoch, ticks `step` seconds apart) in the page's
// language on Milan's clock, as the rest of the page writes times: ticks within a day read
// "11:28" (24-hour), with the day and month ("07/12") under the first one and under each that
// starts a new day; ticks a day or more apart read "07/12", a month or more apart "dic 2026".
export function timeTicks(seconds, step) {
  const written = (options) => {
    const format = new Intl.DateTimeFormat(currentLocale(), { timeZone: TIME_ZONE, ...options });
    return (s) => format.format(new Date(s * 1000));
  };
  const day = written({ day: '2-digit', month: '2-digit' });
  if (step >= MONTH_S) return seconds.map(written({ month: 'short', year: 'numeric' }));
  if (step >= DAY_S) return seconds.map(day);
  const clock = written({ hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  let previous = '';
  return seconds.map((s) => {
    const date = day(s);
    const label = date === previous ? clock(s) : `${clock(s)}\n${date}`;
    previous = date;
    return label;
  });
}

export class DistrictTrends {
  // `root` holds its parts by data-trends: `range` (a select of days), `charts`, `error`, `status`
  // and, optionally, `district` (a select); each figure's data-testid is `<testid>-<metric>`.
  constructor(root, { testid = 'trend' } = {}) {
    const part = (name) => $(`[data-trends="${name}"]`, root);
    this.root = root;
    this.testid = testid;
    this.districtSelect = part('district');
    this.rangeSelect = part('range');
    this.grid = part('charts');
    this.error = part('error');
    this.status = part('status');
    this.chosen = '';
    this.plots = [];
    this.districts = [];
    this.request = 0;
    this.pending = null;
    clear(this.rangeSelect, RANGES.map((days) => h('option', {
      value: String(days), selected: days === DEFAULT_RANGE, 'data-i18n': `trends.range.${days}`, text: t(`trends.range.${days}`),
    })));
    if (this.districtSelect) this.districtSelect.addEventListener('change', () => this.refresh());
    this.rangeSelect.addEventListener('change', () => this.refresh());
    this.resize = new ResizeObserver(() => this.fit());
    this.resize.observe(this.grid);
  }

  get code() {
    return this.districtSelect ? this.districtSelect.value : this.chosen;
  }

  // Without a chooser of its own: the district to chart ('' for none).
  show(code) {
    this.chosen = code || '';
    this.refresh();
  }

  // The districts to choose from (name and code); keeps the current choice when it still exists.
  setDistricts(districts) {
    const sorted = [...districts].sort((a, b) => (a.name || a.code).localeCompare(b.name || b.code, 'it'));
    const same = sorted.length === this.districts.length && sorted.every((d, i) => d.code === this.districts[i].code);
    this.districts = sorted;
    if (same || !this.districtSelect) return;
    const chosen = this.code;
    clear(this.districtSelect, sorted.map((d) => h('option', { value: d.code, text: d.name || d.code })));
    if (sorted.some((d) => d.code === chosen)) this.districtSelect.value = chosen;
    this.refresh();
  }

  // A district's KPIs changed: redraw its charts shortly (a burst of changes redraws once).
  kpisChanged(code) {
    if (code !== this.code || this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = null;
      this.refresh();
    }, REFRESH_AFTER_KPIS_MS);
  }

  async refresh() {
    const code = this.code;
    if (!code) {
      this.draw(null, []);
      return;
    }
    const request = ++this.request;
    const to = new Date();
    const from = new Date(to.getTime() - Number(this.rangeSelect.value) * DAY_MS);
    const query = (metric) => new URLSearchParams({ metric, from: from.toISOString(), to: to.toISOString() });
    this.root.setAttribute('aria-busy', 'true');
    try {
      const series = await Promise.all(
        METRICS.map(([metric]) => api(`/districts/${encodeURIComponent(code)}/timeseries?${query(metric)}`)),
      );
      if (request !== this.request) return;
      this.error.hidden = true;
      this.draw(code, series);
    } catch (error) {
      if (request !== this.request) return;
      this.error.textContent = `${t('panel.unavailable')} ${errorMessage(error)}`;
      this.error.hidden = false;
    } finally {
      if (request === this.request) this.root.removeAttribute('aria-busy');
    }
  }

  draw(code, series) {
    for (const plot of this.plots) plot.destroy();
    this.plots = [];
    const name = this.districts.find((d) => d.code === code)?.name || code || '';
    const built = series.map((s, i) => this.figure(name, METRICS[i], s));
    clear(this.grid, built.map(([figure]) => figure));
    // the plots are drawn once their boxes are in the page, at the width they got
    for (const [, plot] of built) if (plot) this.plots.push(plot());
    this.status.textContent = code ? t('trends.shown', { name, range: this.rangeLabel() }) : '';
  }

  rangeLabel() {
    return this.rangeSelect.selectedOptions[0]?.textContent || '';
  }

  figure(name, [metric, format], s) {
    const points = (Array.isArray(s?.points) ? s.points : []).filter((p) => isNum(p.value));
    const label = t(`trends.metric.${metric}`);
    const plotBox = h('div', { class: 'chart-plot', 'aria-hidden': 'true' });
    const table = h(
      'table',
      { class: 'data-table compact' },
      h('caption', { class: 'visually-hidden', text: t('trends.table_caption', { metric: label, name }) }),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: t('trends.col.at') }),
        h('th', { scope: 'col', class: 'num', text: label }))),
      h('tbody', {}, points.map((p) => h('tr', {}, h('td', { text: dateTime(p.at) }),
        h('td', { class: 'num', text: format(p.value) })))),
    );
    const figure = h(
      'figure',
      { class: 'chart', 'data-testid': `${this.testid}-${metric}`, 'data-points': String(points.length) },
      h('figcaption', { class: 'chart-title', text: label }),
      plotBox,
      h('p', { class: 'chart-summary small', 'data-testid': `${this.testid}-summary-${metric}`, text: summary(points, format) }),
      points.length
        ? h('details', { class: 'chart-data' }, h('summary', { text: t('trends.data') }), table)
        : null,
    );
    if (!points.length || !window.uPlot) return [figure, null];
    const plot = () => {
      const xs = points.map((p) => Date.parse(p.at) / 1000);
      const ys = points.map((p) => p.value);
      // values hold until the next sample: a stepped line is what the series means
      const options = {
        width: Math.max(240, plotBox.clientWidth || 320),
        height: HEIGHT,
        legend: { show: false },
        cursor: { show: false },
        scales: { x: { time: true } },
        tzDate: (ts) => window.uPlot.tzDate(new Date(ts * 1000), TIME_ZONE),
        axes: [
          { values: (_u, ticks, _axis, _space, step) => timeTicks(ticks, step) },
          { values: (_u, ticks) => ticks.map((v) => format(v)), size: 56 },
        ],
        series: [{}, {
          label,
          stroke: '#1f5fa8',
          width: 2,
          points: { show: true, size: 5 },
          paths: window.uPlot.paths.stepped({ align: 1 }),
        }],
      };
      return new window.uPlot(options, [xs, ys], plotBox);
    };
    return [figure, plot];
  }

  fit() {
    for (const plot of this.plots) {
      const box = plot.root.parentElement;
      if (box && box.clientWidth) plot.setSize({ width: Math.max(240, box.clientWidth), height: HEIGHT });
    }
  }
}

// One sentence for the series: first and last value, lowest and highest, how many samples.
function summary(points, format) {
  if (!points.length) return t('trends.no_data');
  const values = points.map((p) => p.value);
  return t('trends.summary', {
    first: format(values[0]),
    last: format(values[values.length - 1]),
    min: format(Math.min(...values)),
    max: format(Math.max(...values)),
    count: num(points.length),
    since: dateTime(points[0].at) || DASH,
  });
}
