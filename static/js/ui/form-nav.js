// Getting around a long form: a bar of section jumps (with what each still
// lacks) under the app bar, and "还差 N 项", which goes to the next unanswered
// question below the one in view (then round again from the top).

import {h} from './dom.js';

/** The jump bar; ``update(missingBySection)`` refreshes its counts. */
export function jumpBar(sections, fieldsets) {
  const buttons = sections.map((section) => h('button', {type: 'button', class: 'jump', dataset: {section: section.id},
    onclick: () => fieldsets[section.id]?.scrollIntoView({block: 'start'})},
  section.label, h('span', {class: 'jump-count'})));
  const bar = h('nav', {class: 'jumpbar', id: 'jumpbar', 'aria-label': '跳到'}, buttons);
  bar.update = (missingBySection) => {
    for (const button of buttons) {
      const n = missingBySection[button.dataset.section] || 0;
      button.querySelector('.jump-count').textContent = n ? String(n) : '';
      button.classList.toggle('done', n === 0);
    }
  };
  return bar;
}

/** The "还差 N 项" button; ``update(ids)`` takes the unanswered field ids in form order. */
export function missingButton(wrappers) {
  let ids = [];
  let last = null;
  const button = h('button', {type: 'button', class: 'wide', id: 'next-missing', onclick: () => {
    if (!ids.length) return;
    // After the one it went to last while that is still on screen, else the
    // first below the top of the screen; round again from the first one.
    const top = document.getElementById('jumpbar')?.getBoundingClientRect().bottom ?? 0;
    const lastBox = last && wrappers[last]?.isConnected ? wrappers[last].getBoundingClientRect() : null;
    const from = lastBox && lastBox.bottom > top && lastBox.top < window.innerHeight ? lastBox.top + 1 : top;
    last = ids.find((id) => id !== last && wrappers[id].getBoundingClientRect().top >= from) || ids[0];
    goTo(wrappers[last]);
  }});
  button.update = (missing) => {
    ids = missing.filter((id) => wrappers[id]);
    button.textContent = ids.length ? `还差 ${ids.length} 项 ↓` : '必填项已全部填写';
    button.disabled = ids.length === 0;
  };
  return button;
}

/** Scroll a question into the middle of the screen and put the cursor in it. */
export function goTo(wrapper) {
  if (!wrapper) return;
  wrapper.scrollIntoView({block: 'center'});
  wrapper.querySelector('input:not([type=hidden]), textarea, select, canvas')?.focus({preventScroll: true});
}
