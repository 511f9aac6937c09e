// The duplicate check at the doorstep (issue 16): before a household typed on
// the phone is saved, is it one the phone already has? Offline and instant,
// with the server's normalisation (idnumber.js, normalize.js and the server's
// name readings); the server's matcher (sync/dedup/) stays the authority and
// runs again on push. A likely match is:
//   1. the same ID number;
//   2. an ID number one character or one adjacent swap away (a typo; two valid
//      numbers never are, the check character sees to that);
//   3. a name that sounds the same (same pinyin, homophones included) in the
//      same village;
//   4. the same initials and surname sound in the same village and group.

import {normalizeId} from './idnumber.js';
import {namePinyin, normalizeGroup, normalizeName} from './normalize.js';

function oneTypoApart(a, b) {
  if (a.length !== 18 || b.length !== 18 || a === b) return false;
  const diff = [];
  for (let i = 0; i < 18; i += 1) if (a[i] !== b[i]) diff.push(i);
  return diff.length === 1 || (diff.length === 2 && diff[1] === diff[0] + 1
    && a[diff[0]] === b[diff[1]] && a[diff[1]] === b[diff[0]]);
}

const squash = (pinyin) => (pinyin || '').replace(/\s+/g, '').toLowerCase();

/**
 * The households of ``pool`` that ``entry`` ({head_name, head_id, group,
 * village}) is likely to be, best first: [{household, reason, rank}].
 */
export function likelyMatches(entry, pool, table, limit = 3) {
  const id = normalizeId(entry.head_id);
  const name = normalizeName(entry.head_name || '');
  const sound = name ? namePinyin(name, table) : null;
  const group = normalizeGroup(entry.group || '');
  const found = [];
  for (const h of pool) {
    const theirs = normalizeId(h.head_id);
    const sameVillage = !entry.village || !h.village || entry.village === h.village;
    let reason = null;
    let rank = 0;
    if (id && theirs === id) {
      reason = '此身份证号已在花名册';
    } else if (id && oneTypoApart(id, theirs)) {
      [reason, rank] = ['身份证号只差一位', 1];
    } else if (sound && sameVillage && squash(h.head_pinyin) === squash(sound.full)) {
      [reason, rank] = [h.head_name === name ? '同名农户已在花名册' : '同音姓名已在花名册', 2];
    } else if (sound && sameVillage && group && normalizeGroup(h.group || '') === group
      && sound.initials.length >= 2 && (h.head_initials || '').toLowerCase() === sound.initials
      && (h.head_pinyin || '').toLowerCase().split(/\s+/)[0] === sound.full.split(' ')[0]) {
      [reason, rank] = ['同组有姓名首字母相同的农户', 3];
    }
    if (reason) found.push({household: h, reason, rank});
  }
  found.sort((a, b) => a.rank - b.rank || (a.household.head_name || '').localeCompare(b.household.head_name || '', 'zh-CN'));
  return found.slice(0, limit);
}
