// A district's vitality index laid out as a table of its components: each one's measured value,
// score, weight and the service's own explanation, in the page's language (explanation_it in
// Italian, explanation in English). Used by the overview's district rows and the Distretti section.

import { h } from './dom.js';
import { DASH, isNum, num, pct } from './format.js';
import { currentLang, t, tOr } from './i18n.js';

// Component values come in the unit of each measure; the explanation spells it out.
const COMPONENT_VALUE = {
  net_openings: (v) => `${v > 0 ? '+' : ''}${num(v, 1)} %`,
  stall_occupancy: (v) => pct(v),
  historic_survival: (v) => pct(v),
  extended_hours: (v) => pct(v),
  service_coverage: (v) => t('components.per_1000', { value: num(v, 2) }),
};

function componentValue(component) {
  const value = component?.value;
  if (!isNum(value)) return DASH;
  const format = COMPONENT_VALUE[component.name];
  return format ? format(value) : num(value, 2);
}

function explanation(component) {
  const italian = currentLang() === 'it' ? component?.explanation_it : '';
  return italian || component?.explanation || DASH;
}

export function componentsTable(district, attrs = {}) {
  const components = Array.isArray(district?.vitality?.components) ? district.vitality.components : [];
  if (!components.length) return h('p', { class: 'muted', text: t('districts.no_components') });
  return h(
    'table',
    { class: 'components', ...attrs },
    h('caption', { text: t('districts.components_caption', { name: district.name || district.code }) }),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['components.name', 'components.value', 'components.score', 'components.weight', 'components.explanation'].map(
          (key) => h('th', { scope: 'col', text: t(key) }),
        ),
      ),
    ),
    h(
      'tbody',
      {},
      components.map((c) =>
        h(
          'tr',
          { 'data-component': c?.name },
          h('th', { scope: 'row', text: tOr('component', c?.name) || DASH }),
          h('td', { class: 'num', text: componentValue(c) }),
          h('td', { class: 'num', text: num(c?.score, 1) }),
          h('td', { class: 'num', text: pct(c?.weight) }),
          h('td', { class: 'explanation', text: explanation(c) }),
        ),
      ),
    ),
  );
}
