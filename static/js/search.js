// Household search and ordering on the phone (pinyin comes precomputed from pull;
// for a household created on the phone it is read with the server's table).

import {namePinyin} from './normalize.js';

const RANK_MONITORED = 0;
const RANK_LIFTED = 1;
const RANK_OTHER = 2;

export function rank(h) {
  if (h.monitor_type && h.monitor_type !== 'none') return RANK_MONITORED;
  if (h.category === 'lifted') return RANK_LIFTED;
  return RANK_OTHER;
}

function groupNumber(label) {
  const m = /^(\d+)组$/.exec(label || '');
  return m ? Number(m[1]) : 9999;
}

/** Village, then group, then monitored / 脱贫户 first, then household code. */
export function compareHouseholds(a, b) {
  return (a.village || '').localeCompare(b.village || '', 'zh-CN')
    || groupNumber(a.group) - groupNumber(b.group)
    || (a.group || '').localeCompare(b.group || '', 'zh-CN')
    || rank(a) - rank(b)
    || (a.code || '').localeCompare(b.code || '');
}

/** The lower-case keys a household is found by (computed once, stored with it). */
export function searchKeys(h) {
  const pinyin = (h.head_pinyin || '').toLowerCase();
  return {
    name: h.head_name || '',
    pinyin: pinyin.replace(/\s+/g, ''),
    initials: (h.head_initials || '').toLowerCase(),
    code: (h.code || '').toLowerCase(),
    id_last4: (h.head_id || '').slice(-4).toUpperCase(),
  };
}

/** Does ``h`` match the typed query (name, full pinyin, initials, code, last 4 ID digits)? */
export function matches(h, query) {
  const q = query.trim().toLowerCase().replace(/\s+/g, '');
  if (!q) return true;
  const keys = h.search || searchKeys(h);
  if (keys.name.includes(q)) return true;
  if (/^[a-z]+$/.test(q) && (keys.pinyin.startsWith(q) || keys.initials.startsWith(q) || keys.pinyin.includes(q))) return true;
  if (/^\d{3}[\dx]$/.test(q) && keys.id_last4 === q.toUpperCase()) return true;
  return keys.code.includes(q);
}

/**
 * A household created on this phone and not yet acknowledged (an outbox record
 * with no household_id and nothing it supersedes), shaped like a pulled one so
 * that the list, the search and the duplicate check treat it the same.
 */
export function localHousehold(record, table) {
  const d = record.data || {};
  const {full, initials} = namePinyin(d.head_name || '', table);
  const h = {id: `new:${record.uuid}`, uuid: record.uuid, local: true, code: null, village: record.village || '',
    group: d.group || '', hamlet: d.hamlet, head_name: d.head_name || record.label || '', head_id: d.head_id || '',
    head_pinyin: full, head_initials: initials, size: d.size, category: d.category, monitor_type: d.monitor_type};
  h.search = searchKeys(h);
  return h;
}

export const isNewHousehold = (record) => !record.household_id && !record.supersedes;
