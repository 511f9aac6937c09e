// Household search and ordering on the phone (pinyin comes precomputed from pull).

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
