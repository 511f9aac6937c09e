// My households: by village and group, search, filters, counts; a
// virtualised list (only the rows in view are in the DOM). Households typed in
// on this phone are listed (and found) at once, 待同步 until the server has them.

import * as store from '../db.js';
import {maskId} from '../idnumber.js';
import {allPending} from '../outbox.js';
import {compareHouseholds, isNewHousehold, localHousehold, matches, rank} from '../search.js';
import {isRunning} from '../sync.js';
import {clear, h} from './dom.js';

const ROW_HEIGHT = 68;
const HEADER_HEIGHT = 36;
const OVERSCAN = 6;
const FILTERS = [['all', '全部'], ['todo', '未排查'], ['done', '已排查'], ['pending', '待同步'], ['returned', '被退回']];

let state = null;

export async function show(container, {scope}) {
  state = {scope, query: '', filter: 'all', all: [], items: [], offsets: [], container: null};
  const search = h('input', {type: 'search', id: 'hh-search', name: 'q', placeholder: '姓名、拼音、首字母、户编号、身份证后4位',
    autocomplete: 'off', enterkeyhint: 'search', 'aria-label': '搜索农户'});
  search.addEventListener('input', () => { state.query = search.value; applyFilter(); });
  const chips = h('div', {class: 'chips', role: 'tablist'}, FILTERS.map(([key, label]) => h('button', {
    type: 'button', class: `chip${key === 'all' ? ' active' : ''}`, dataset: {filter: key}, role: 'tab',
    onclick: (event) => {
      state.filter = key;
      chips.querySelectorAll('.chip').forEach((c) => c.classList.toggle('active', c === event.currentTarget));
      applyFilter();
    }}, label)));
  const viewport = h('div', {class: 'vlist', id: 'hh-list', role: 'list'});
  const spacer = h('div', {class: 'vlist-spacer'});
  const rows = h('div', {class: 'vlist-rows'});
  viewport.append(spacer, rows);
  viewport.addEventListener('scroll', () => requestAnimationFrame(paint), {passive: true});
  state.viewport = viewport;
  state.spacer = spacer;
  state.rows = rows;
  state.counts = h('p', {class: 'counts', id: 'hh-counts'});
  state.empty = h('p', {class: 'muted empty', hidden: true});
  container.append(
    h('div', {class: 'list-head'},
      state.counts,
      h('div', {class: 'row actions'},
        h('a', {class: 'button', href: `${scope}visit?new=1`, data: null, 'data-link': true}, '＋ 新增农户'),
        h('a', {class: 'button', href: `${scope}returned`, 'data-link': true, id: 'returned-link'}, '被退回'))),
    search, chips, state.empty, viewport);
  await refresh();
}

export async function refresh() {
  if (!state) return;
  const auth = await store.getMeta('auth');
  const owner = auth?.user?.username;
  const [pulled, pending, visits, drafts, table] = await Promise.all([
    store.getAll('households'), allPending(), store.getAll('visits'), store.getAll('drafts'), store.getMeta('pinyin')]);
  const mine = pending.filter((r) => r.owner === owner);
  const typedIn = mine.filter(isNewHousehold).map((r) => Object.assign(localHousehold(r, table), {_pending: r}));
  const households = pulled.concat(typedIn);
  const pendingBy = new Map(mine.filter((r) => r.household_id).map((r) => [r.household_id, r]));
  const draftFor = new Set(drafts.filter((d) => d.owner === owner).map((d) => d.household_key));
  const returnedBy = new Set();
  const superseded = new Set(pending.map((r) => r.supersedes).concat(visits.map((v) => v.supersedes)).filter(Boolean));
  for (const v of visits) {
    if (v.review_status === 'returned' && !superseded.has(v.uuid) && (!v.owner || v.owner === owner)) returnedBy.add(v.household_id);
  }
  for (const hh of households) {
    if (!hh.local) hh._pending = pendingBy.get(hh.id) || null;
    hh._draft = draftFor.has(hh.id);
    hh._returned = returnedBy.has(hh.id);
    hh._done = Boolean(hh.visited || hh._pending);
  }
  households.sort(compareHouseholds);
  state.all = households;
  const done = households.filter((x) => x._done).length;
  state.counts.textContent = `已排查 ${done} / ${households.length}`;
  const link = document.getElementById('returned-link');
  if (link) link.textContent = `被退回 ${returnedBy.size}`;
  applyFilter();
}

function applyFilter() {
  const {filter, query} = state;
  const chosen = state.all.filter((x) => (filter === 'all'
    || (filter === 'todo' && !x._done) || (filter === 'done' && x._done)
    || (filter === 'pending' && x._pending) || (filter === 'returned' && x._returned)) && matches(x, query));
  // Headers per village and group, then the households under them.
  const items = [];
  let last = null;
  for (const x of chosen) {
    const key = `${x.village} ${x.group}`;
    if (key !== last) { items.push({header: key}); last = key; }
    items.push({household: x});
  }
  const offsets = new Array(items.length + 1);
  offsets[0] = 0;
  for (let i = 0; i < items.length; i += 1) offsets[i + 1] = offsets[i] + (items[i].header ? HEADER_HEIGHT : ROW_HEIGHT);
  state.items = items;
  state.offsets = offsets;
  state.spacer.style.height = `${offsets[items.length]}px`;
  state.empty.hidden = chosen.length > 0;
  state.empty.textContent = state.all.length ? '没有符合条件的农户' : (isRunning() ? '正在下载农户…' : '还没有农户：请联网后同步');
  state.viewport.scrollTop = 0;
  state.painted = null;
  paint();
}

function firstIndexAt(y) {
  const {offsets} = state;
  let lo = 0;
  let hi = offsets.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (offsets[mid] <= y) lo = mid; else hi = mid - 1;
  }
  return Math.min(lo, Math.max(0, state.items.length - 1));
}

function paint() {
  if (!state || !state.viewport.isConnected) return;
  const top = state.viewport.scrollTop;
  const height = state.viewport.clientHeight || 480;
  const start = Math.max(0, firstIndexAt(top) - OVERSCAN);
  let end = firstIndexAt(top + height) + OVERSCAN;
  end = Math.min(state.items.length - 1, end);
  const key = `${start}:${end}:${state.items.length}`;
  if (state.painted === key) return;
  state.painted = key;
  clear(state.rows);
  for (let i = start; i <= end; i += 1) {
    const item = state.items[i];
    const el = item.header ? h('div', {class: 'vlist-header'}, item.header) : row(item.household);
    el.style.transform = `translateY(${state.offsets[i]}px)`;
    state.rows.append(el);
  }
}

function row(x) {
  const tags = [];
  if (x.monitor_type && x.monitor_type !== 'none') tags.push(h('span', {class: 'badge bad'}, '监测对象'));
  if (x.category === 'lifted') tags.push(h('span', {class: 'badge warn'}, '脱贫户'));
  if (x.local) tags.push(h('span', {class: 'badge'}, '新增'));
  const status = x._returned ? h('span', {class: 'badge bad'}, '被退回')
    : x._pending ? h('span', {class: `badge ${x._pending.status === 'rejected' ? 'bad' : 'warn'}`}, x._pending.status === 'rejected' ? '被拒收' : '待同步')
      : x._draft ? h('span', {class: 'badge info'}, '草稿')
        : x.visited ? h('span', {class: 'badge ok'}, '已排查') : h('span', {class: 'badge'}, '未排查');
  const href = x.local ? `visit?edit=${encodeURIComponent(x.uuid)}` : `visit?h=${encodeURIComponent(x.id)}`;
  return h('a', {class: `vlist-row rank-${rank(x)}`, role: 'listitem', href: `${state.scope}${href}`,
    'data-link': true, dataset: {id: x.id}},
  h('span', {class: 'row-main'}, h('strong', {class: 'name'}, x.head_name), ' ', tags),
  // No empty slot between separators (a household created in the field has no code).
  h('span', {class: 'row-sub muted'}, [x.code, maskId(x.head_id), `${x.size ?? '?'}人`].filter(Boolean).join(' · ')),
  h('span', {class: 'row-status'}, status));
}

export function leave() { state = null; }
