// Visits a supervisor returned, with the comment; tap to correct and resubmit
// (or, returned as 仅需重签, to have the household sign again).

import * as store from '../db.js';
import {allPending} from '../outbox.js';
import {h} from './dom.js';

export async function show(container, {auth, scope}) {
  const owner = auth.user.username;
  const [visits, pending] = await Promise.all([store.getAll('visits'), allPending()]);
  const superseding = new Set(pending.map((r) => r.supersedes).concat(visits.map((v) => v.supersedes)).filter(Boolean));
  const returned = visits.filter((v) => v.review_status === 'returned' && !superseding.has(v.uuid)
    && (!v.owner || v.owner === owner));
  const items = [];
  for (const v of returned) {
    const household = v.household_id ? await store.get('households', v.household_id) : null;
    items.push(h('li', {class: 'card returned-item'},
      h('strong', {}, v.label || household?.head_name || '（未知农户）'),
      household ? h('span', {class: 'muted'}, ` ${household.village} ${household.group}`) : null,
      h('p', {class: 'notice warn'}, '退回意见：', v.review_comment || '（无）'),
      h('a', {class: 'button primary', href: `${scope}visit?correct=${encodeURIComponent(v.uuid)}`, 'data-link': true},
        v.return_kind === 'resign' ? '仅需重签：请农户重新签字' : '修改后重新提交')));
  }
  container.append(h('h1', {}, `被退回的记录（${returned.length}）`),
    items.length ? h('ul', {class: 'plain'}, items) : h('p', {class: 'muted'}, '没有被退回的记录。'),
    h('a', {class: 'button wide', href: scope, 'data-link': true}, '返回列表'));
}
