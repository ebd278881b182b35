// What a call shows to anyone who reads it: its criteria (weight and maximum) and its ranking with
// every score and reason. The office's calls workspace and the traders' page draw them the same way;
// the office sees the applicants' names, everyone else application numbers only.

import { h } from './dom.js';
import { stacked } from './forms.js';
import { DASH, isNum, num } from './format.js';
import { t, tOr } from './i18n.js';

// A criterion as a reader sees it: its description (a readable name when it has none); `codes`: with
// its code name too, as the office that published it wrote it.
export function criterionLabel(call, name, { codes = true } = {}) {
  const criterion = (call?.criteria || []).find((c) => c.name === name);
  if (!codes) return criterion?.description || tOr('calls.default', name);
  return criterion?.description ? `${criterion.description} (${name})` : name;
}

function totalWeight(call) {
  return (call?.criteria || []).reduce((sum, c) => sum + (isNum(c.weight) ? c.weight : 0), 0);
}

export function criteriaTable(call, { codes = true } = {}) {
  const total = totalWeight(call);
  return h(
    'table',
    { class: 'data-table compact', 'data-testid': 'call-criteria' },
    h('caption', { text: t('calls.criteria_caption') }),
    h('thead', {}, h('tr', {}, ['calls.col.criterion', 'calls.col.weight', 'calls.col.max'].map((k, i) => h('th', { scope: 'col', class: i ? 'num' : '', text: t(k) })))),
    h(
      'tbody',
      {},
      call.criteria.map((c) =>
        h(
          'tr',
          {},
          codes
            ? h('th', { scope: 'row' }, h('span', { class: 'cell-title', text: c.description || c.name }), h('span', { class: 'cell-sub', text: c.name }))
            : h('th', { scope: 'row', text: criterionLabel(call, c.name, { codes }) }),
          h('td', { class: 'num', text: `${num(c.weight, 2)} (${num(total ? (100 * c.weight) / total : null, 1)} %)` }),
          h('td', { class: 'num', text: num(c.max_points, 2) }),
        ),
      ),
    ),
  );
}

function outcomeCell(item) {
  const awarded = item.outcome === 'awarded';
  return h(
    'td',
    {},
    h('span', { class: `outcome outcome-${item.outcome}`, 'data-testid': `outcome-${item.application}` }, h('span', { 'aria-hidden': 'true', text: awarded ? '✓ ' : '✗ ' }), tOr('outcome', item.outcome)),
  );
}

// The ranking's table in a scrollable region labelled by `labelledBy`. `names`: the holder column
// (the office's eyes only); `mine`: the number of the reader's own application, its row marked;
// `codes`: the criteria's code names beside their descriptions.
export function rankingTable(ranking, call, { labelledBy, names = false, mine = null, codes = true }) {
  const items = Array.isArray(ranking.items) ? ranking.items : [];
  const heads = ['calls.col.rank', 'calls.col.application', names ? 'calls.col.holder' : null, 'calls.col.category', 'calls.col.score', 'calls.col.outcome', 'calls.col.stall', 'calls.col.reason'].filter(Boolean);
  return h(
    'div',
    { class: 'table-wrap', role: 'region', tabindex: '0', 'aria-labelledby': labelledBy },
    stacked(h(
      'table',
      { class: 'data-table', 'data-testid': 'ranking-table' },
      h('caption', { class: 'visually-hidden', text: t('calls.ranking_title') }),
      h('thead', {}, h('tr', {}, heads.map((k) => h('th', { scope: 'col', class: k === 'calls.col.rank' || k === 'calls.col.score' ? 'num' : '', text: t(k) })))),
      h(
        'tbody',
        {},
        items.length
          ? items.map((item) => {
              const own = mine !== null && item.application === mine;
              return h(
                'tr',
                { 'data-testid': `ranking-row-${item.application}`, class: own ? 'own-row' : null, 'aria-current': own ? 'true' : null },
                h('th', { scope: 'row', class: 'num', text: String(item.rank) }),
                h('td', {}, item.application, own ? h('strong', { class: 'own-mark', 'data-testid': 'ranking-own', text: ` ${t('trader.yours')}` }) : null),
                names ? h('td', {}, h('span', { class: 'cell-title', text: item.holder || DASH }), h('span', { class: 'cell-sub', text: item.applicant || '' })) : null,
                h('td', { text: tOr('category', item.category) }),
                h('td', { class: 'num strong', text: num(item.score, 2) }),
                outcomeCell(item),
                h('td', { text: item.stall || DASH }),
                h(
                  'td',
                  { class: 'explanation' },
                  h('p', { text: item.reason || DASH }),
                  h('ul', { class: 'plain-list small' }, (item.breakdown || []).map((b) => h('li', { text: t('calls.breakdown', { criterion: criterionLabel(call, b.criterion, { codes }), value: num(b.value, 2), max: num(b.max_points, 2), points: num(b.points, 2), reason: b.reason || DASH }) }))),
                ),
              );
            })
          : h('tr', {}, h('td', { colspan: String(heads.length), class: 'empty', text: t('calls.ranking_empty') })),
      ),
    )),
  );
}
