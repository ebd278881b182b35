// The office's workspace: one page, several sections. The navigation holds plain links to
// #<section>; the element whose data-workspace-section names the hash is shown and the others are
// hidden, so the browser's back button, bookmarks and a reload all land on the same section.
// Following a link moves focus to the section's heading; an unknown hash (the skip link's #main)
// leaves the sections as they are. A section may also own deeper links (`sectionOf(hash)` names the
// section of a hash such as #district-<code>, or returns null).

import { $ } from './dom.js';

export function setupWorkspace(onShow = {}, { sectionOf = () => null } = {}) {
  const nav = $('#workspace-nav');
  const sections = [...document.querySelectorAll('[data-workspace-section]')];
  const names = sections.map((section) => section.dataset.workspaceSection);
  let active = false;

  const named = () => location.hash.slice(1);
  const sectionFor = (hash) => (names.includes(hash) ? hash : sectionOf(hash));
  const current = () => sectionFor(named()) || names[0];

  function show(name, { focus }) {
    for (const section of sections) section.hidden = section.dataset.workspaceSection !== name;
    for (const link of nav.querySelectorAll('[data-workspace-link]')) {
      if (link.dataset.workspaceLink === name) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
    if (onShow[name]) onShow[name]();
    if (!focus) return;
    const heading = sections.find((section) => section.dataset.workspaceSection === name)?.querySelector('h2');
    if (heading) {
      if (!heading.hasAttribute('tabindex')) heading.setAttribute('tabindex', '-1');
      heading.focus();
    }
  }

  window.addEventListener('hashchange', () => {
    const name = sectionFor(named());
    if (active && name) show(name, { focus: true });
  });

  return {
    // Signed in as the office: the navigation appears on the section the address names.
    enter() {
      active = true;
      nav.hidden = false;
      show(current(), { focus: false });
    },
    leave() {
      active = false;
      nav.hidden = true;
      for (const section of sections) section.hidden = true;
    },
  };
}
