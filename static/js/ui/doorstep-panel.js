// The warning shown while 新增农户 is filled in when the phone already has a
// household it may be (doorstep.js finds them): open that household, or go on.

import {h} from './dom.js';

/** The panel; ``show(matches, village)`` fills it (or hides it when there are none). */
export function doorstepPanel({onOpen, onGoOn}) {
  const list = h('ul', {class: 'plain'});
  const panel = h('div', {class: 'notice warn', id: 'doorstep', role: 'alert', hidden: true},
    h('strong', {}, '可能是已有的农户：'), list,
    h('button', {type: 'button', id: 'doorstep-go-on', class: 'wide', onclick: () => onGoOn()}, '不是同一户，继续新增'));
  panel.show = (matches, village) => {
    list.replaceChildren(...matches.map(({household: x, reason}) => h('li', {class: 'doorstep-match', dataset: {id: x.id}},
      `${reason}：${x.head_name} ${x.group || ''}${x.village && x.village !== village ? `（${x.village}）` : ''}`,
      x.local ? '（本机新增，待同步）' : '', ' —— 打开该户？',
      h('button', {type: 'button', class: 'primary doorstep-open', onclick: () => onOpen(x)}, '打开该户'))));
    const appearing = panel.hidden && matches.length > 0;
    panel.hidden = matches.length === 0;
    if (appearing) panel.scrollIntoView({block: 'nearest'});
  };
  return panel;
}
