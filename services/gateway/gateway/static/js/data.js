// The office's data: upload an official open-data file and watch its import row by row (created,
// updated, unchanged, and the rows refused with their reason), see the recent imports, and rebuild
// the districts' projections from the event history with the replay's progress. Both jobs run on
// the server: the page only follows them, so closing it or signing out stops nothing, and coming
// back finds a running job again.

import { ApiError, api } from './api.js';
import { $, clear, h, keepFocus } from './dom.js';
import { DASH, dateTime, fileSize, num, pct } from './format.js';
import { dataTable, errorPanel, rowButton, sayer, setFieldError, showProblem, stacked, startSubmit } from './forms.js';
import { t, tOr } from './i18n.js';

const POLL_MS = 500;
const LARGEST_UPLOAD = 20 * 1024 * 1024; // as the gateway accepts it
const RECENT = 10;
const IMPORT_DONE = new Set(['done', 'failed', 'interrupted']);
const REBUILD_DONE = new Set(['done', 'failed']);

const state = {
  started: false,
  imports: [],
  importJob: null, // the import shown in detail
  rebuildJob: null,
  timers: { import: null, rebuild: null },
};

const say = sayer('#data-message');
const setImportsError = errorPanel('#imports-error');
const setRebuildError = errorPanel('#rebuild-error');

// ---------------------------------------------------------------- following a job

// Polls `load` every POLL_MS until `finished(job)`; each answer goes to `show`. One follower per
// kind of job: following another one stops the first.
function follow(kind, load, finished, show, onEnd) {
  clearTimeout(state.timers[kind]);
  const tick = async () => {
    if (!state.started) return;
    let job;
    try {
      job = await load();
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return;
      state.timers[kind] = setTimeout(tick, POLL_MS * 4); // a blip: keep following, more slowly
      return;
    }
    show(job);
    if (finished(job)) onEnd(job);
    else state.timers[kind] = setTimeout(tick, POLL_MS);
  };
  tick();
}

function progressBar(id, value, max, label) {
  // a determinate bar once the total is known, an indeterminate one before
  const attrs = { id, 'data-testid': id, 'aria-label': label };
  if (Number.isFinite(max) && max > 0) Object.assign(attrs, { max: String(max), value: String(Math.min(value, max)) });
  return h('progress', attrs);
}

function badge(kind, value) {
  const mark = { done: '✓ ', failed: '✗ ', interrupted: '✗ ' }[value] || '… ';
  return h('span', { class: `job-state job-${value}`, 'data-testid': `${kind}-state` }, h('span', { 'aria-hidden': 'true', text: mark }), tOr('job_state', value));
}

// ---------------------------------------------------------------- imports

async function loadImports() {
  try {
    const page = await api(`/imports?limit=${RECENT}`);
    state.imports = Array.isArray(page?.items) ? page.items : [];
    setImportsError(null);
  } catch (error) {
    setImportsError(error);
  }
  renderImports();
  const running = state.imports.find((job) => !IMPORT_DONE.has(job.state));
  if (running && !state.importJob) followImport(running);
}

function outcomeCells(job) {
  const o = job.outcomes || {};
  return [o.created, o.updated, o.unchanged, job.rejected_count].map((n) => h('td', { class: 'num', text: num(n) }));
}

function renderImports() {
  const heads = ['data.col.file', 'data.col.kind', 'data.col.state', 'data.col.rows', 'data.col.created', 'data.col.updated', 'data.col.unchanged', 'data.col.rejected', 'data.col.by', 'data.col.started', 'data.col.open'];
  keepFocus(() => dataTable($('#imports-table'), {
    caption: t('data.imports_caption', { n: state.imports.length }),
    heads: heads.map((key, i) => ({ text: t(key), num: i >= 3 && i <= 7 })),
    rows: state.imports.map((job) =>
      h(
        'tr',
        { 'data-testid': `import-row-${job.id}`, class: state.importJob?.id === job.id ? 'selected-row' : '' },
        h('th', { scope: 'row', text: job.file }),
        h('td', { text: job.description || job.importer || DASH }),
        h('td', {}, badge(`import-row-${job.id}`, job.state)),
        h('td', { class: 'num', text: num(job.rows_total) }),
        outcomeCells(job),
        h('td', { text: job.actor || DASH }),
        h('td', { text: dateTime(job.started_at) }),
        h('td', {}, rowButton(`import-open-${job.id}`, t('calls.open'), t('data.open_named', { name: job.file }), () => followImport(job, { focus: true }))),
      ),
    ),
    empty: t('data.no_imports'),
  }));
}

function renderImportJob(job, { focus = false } = {}) {
  state.importJob = job;
  const panel = $('#import-job');
  panel.hidden = false;
  const total = job.rows_total;
  const rejected = Array.isArray(job.rejected) ? job.rejected : [];
  const o = job.outcomes || {};
  // each answer while following draws the panel again: the focus stays where it was
  keepFocus(() => clear(
    panel,
    h('h3', { id: 'import-job-title', tabindex: '-1', 'data-focus-key': 'import-job-title', text: t('data.job_title', { file: job.file }) }),
    h('p', { class: 'small' }, badge('import', job.state), ' ', job.description || job.importer || ''),
    progressBar('import-progress', job.rows_done || 0, total, t('data.rows_progress_label')),
    h('p', { class: 'small', 'data-testid': 'import-counts', text: Number.isFinite(total) ? t('data.rows_progress', { done: num(job.rows_done), total: num(total), pct: pct(total ? job.rows_done / total : 1) }) : t('data.counting') }),
    h(
      'dl',
      { class: 'job-outcomes', 'data-testid': 'import-outcomes' },
      [['created', o.created], ['updated', o.updated], ['unchanged', o.unchanged], ['rejected', job.rejected_count]].map(([key, n]) => [
        h('dt', { text: t(`data.col.${key}`) }),
        h('dd', { 'data-testid': `import-${key}`, text: num(n) }),
      ]),
    ),
    job.error ? h('p', { class: 'panel-error', text: t('data.job_error', { error: job.error }) }) : null,
    rejected.length ? rejectedTable(job, rejected) : null,
  ));
  if (focus) $('#import-job-title').focus();
}

function rejectedTable(job, rejected) {
  const more = (job.rejected_count || rejected.length) - rejected.length;
  return h(
    'div',
    { class: 'table-wrap', role: 'region', tabindex: '0', 'aria-labelledby': 'import-rejected-caption' },
    stacked(
      h(
        'table',
        { class: 'data-table', 'data-testid': 'import-rejected-rows' },
        h('caption', { id: 'import-rejected-caption', text: more > 0 ? t('data.rejected_caption_more', { n: num(rejected.length), more: num(more) }) : t('data.rejected_caption', { n: num(rejected.length) }) }),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col', class: 'num', text: t('data.col.line') }), h('th', { scope: 'col', text: t('data.col.reason') }))),
        h('tbody', {}, rejected.map((r) => h('tr', {}, h('th', { scope: 'row', class: 'num', text: String(r.line) }), h('td', { text: r.reason })))),
      ),
    ),
  );
}

function followImport(job, { focus = false } = {}) {
  renderImportJob(job, { focus });
  renderImports();
  if (IMPORT_DONE.has(job.state)) return;
  follow(
    'import',
    () => api(`/imports/${encodeURIComponent(job.id)}`),
    (j) => IMPORT_DONE.has(j.state),
    (j) => {
      if (state.importJob?.id === j.id) renderImportJob(j);
    },
    (j) => {
      say(j.state === 'done' ? 'success' : 'error', t(`data.import_${j.state === 'done' ? 'done' : 'failed'}`, { file: j.file, created: num(j.outcomes?.created), updated: num(j.outcomes?.updated), unchanged: num(j.outcomes?.unchanged), rejected: num(j.rejected_count) }));
      loadImports();
    },
  );
}

async function upload(event) {
  const form = $('#import-form');
  const input = $('#import-file');
  const message = $('#import-form-message');
  startSubmit(event, form, message);
  const file = input.files?.[0];
  if (!file || file.size > LARGEST_UPLOAD) {
    const text = file ? t('data.too_large', { size: fileSize(file.size), max: fileSize(LARGEST_UPLOAD) }) : t('data.choose_file');
    setFieldError(input, text);
    message.textContent = text;
    say('error', text);
    input.focus();
    return;
  }
  const body = new FormData();
  body.append('file', file, file.name);
  const button = $('#import-submit');
  button.disabled = true;
  say('info', t('data.uploading', { file: file.name }));
  try {
    const job = await api('/imports', { method: 'POST', body });
    form.reset();
    say('info', t('data.import_started', { file: job.file }));
    followImport(job, { focus: true });
    loadImports();
  } catch (error) {
    showProblem(form, error, message, say);
  } finally {
    button.disabled = false;
  }
}

// ---------------------------------------------------------------- rebuild

function renderRebuild() {
  const panel = $('#rebuild-job');
  const job = state.rebuildJob;
  panel.hidden = !job;
  $('#rebuild-start').disabled = Boolean(job && !REBUILD_DONE.has(job.state));
  if (!job) return;
  const total = job.events_total;
  clear(
    panel,
    h('p', { class: 'small' }, badge('rebuild', job.state), ' ', t('data.rebuild_by', { who: job.requested_by || DASH, at: dateTime(job.started_at) })),
    progressBar('rebuild-progress', job.events_replayed || 0, total, t('data.rebuild_progress_label')),
    h('p', { class: 'small', 'data-testid': 'rebuild-counts', text: Number.isFinite(total) ? t('data.rebuild_progress', { done: num(job.events_replayed), total: num(total), pct: pct(job.progress) }) : t('data.counting') }),
    job.finished_at ? h('p', { class: 'small', text: t('data.finished_at', { at: dateTime(job.finished_at) }) }) : null,
    job.error ? h('p', { class: 'panel-error', text: t('data.job_error', { error: job.error }) }) : null,
  );
}

function followRebuild(job) {
  state.rebuildJob = job;
  renderRebuild();
  if (REBUILD_DONE.has(job.state)) return;
  follow(
    'rebuild',
    () => api(`/districts/rebuild/${encodeURIComponent(job.id)}`),
    (j) => REBUILD_DONE.has(j.state),
    (j) => {
      state.rebuildJob = j;
      renderRebuild();
    },
    (j) => say(j.state === 'done' ? 'success' : 'error', t(j.state === 'done' ? 'data.rebuild_done' : 'data.rebuild_failed', { error: j.error || '' })),
  );
}

async function loadRebuild() {
  try {
    const page = await api('/districts/rebuild?limit=1');
    const latest = Array.isArray(page?.items) ? page.items[0] : null;
    setRebuildError(null);
    if (latest) followRebuild(latest);
    else renderRebuild();
  } catch (error) {
    setRebuildError(error);
  }
}

// The button is disabled while a rebuild runs, so the focus moves to the panel that follows it
// (and back to the button when the rebuild could not start).
async function startRebuild() {
  const button = $('#rebuild-start');
  button.disabled = true;
  try {
    const job = await api('/districts/rebuild', { method: 'POST' });
    say('info', t('data.rebuild_started'));
    followRebuild(job);
  } catch (error) {
    const running = error instanceof ApiError && error.status === 409 ? error.problem?.job : null;
    if (running) {
      // one runs at a time: follow the one already running
      say('info', t('data.rebuild_running'));
      followRebuild(await api(`/districts/rebuild/${encodeURIComponent(running)}`));
    } else {
      setRebuildError(error);
      button.disabled = false;
      button.focus();
      return;
    }
  }
  $('#rebuild-job').focus();
}

// ---------------------------------------------------------------- the section

export function setupData() {
  $('#import-form').addEventListener('submit', upload);
  $('#import-file').addEventListener('change', () => setFieldError($('#import-file'), ''));
  $('#imports-refresh').addEventListener('click', loadImports);
  $('#rebuild-start').addEventListener('click', startRebuild);
}

export function showData() {
  state.started = true;
  loadImports();
  loadRebuild();
}

export function stopData() {
  state.started = false;
  for (const kind of Object.keys(state.timers)) clearTimeout(state.timers[kind]);
  state.imports = [];
  state.importJob = null;
  state.rebuildJob = null;
  $('#import-job').hidden = true;
}

export function retranslateData() {
  if (!state.started) return;
  renderImports();
  if (state.importJob) renderImportJob(state.importJob);
  renderRebuild();
}
