// Normalisation of typed labels, as sync/normalize.py does it (groups,
// phones, names): the phone shows the server's messages for the same input.

const CN_DIGITS = {'零': 0, '〇': 0, '一': 1, '二': 2, '两': 2, '三': 3, '四': 4, '五': 5, '六': 6, '七': 7, '八': 8, '九': 9};
const TRAD_TO_SIMP = {
  '劉': '刘', '陳': '陈', '張': '张', '黃': '黄', '吳': '吴', '趙': '赵', '鄧': '邓', '華': '华',
  '國': '国', '軍': '军', '東': '东', '偉': '伟', '紅': '红', '蘭': '兰', '鳳': '凤', '雲': '云',
  '萬': '万', '興': '兴', '榮': '荣', '龍': '龙', '飛': '飞', '強': '强', '麗': '丽', '買': '买',
  '賣': '卖', '開': '开', '門': '门', '鄉': '乡', '灣': '湾', '塆': '湾', '組': '组', '隊': '队',
  '學': '学', '貴': '贵', '寶': '宝', '鐵': '铁', '銀': '银', '錢': '钱', '馬': '马', '葉': '叶',
  '楊': '杨', '許': '许', '鄭': '郑', '謝': '谢', '韓': '韩', '馮': '冯', '蔣': '蒋', '歐': '欧',
  '陽': '阳', '孫': '孙', '羅': '罗', '嚴': '严', '顧': '顾', '蕭': '萧', '鍾': '钟',
};
const GROUP = /^第?([0-9一二三四五六七八九十两零〇]+)(?:村民小组|村民组|小组|组|队|生产队)$/;

export function chineseNumber(text) {
  text = text.trim();
  if (/^\d+$/.test(text)) return parseInt(text, 10);
  if (!text || [...text].some((ch) => !(ch in CN_DIGITS) && ch !== '十')) return null;
  if (text.includes('十')) {
    const at = text.indexOf('十');
    const tens = text.slice(0, at);
    const ones = text.slice(at + 1);
    const tensValue = tens ? CN_DIGITS[tens] : 1;
    const onesValue = ones ? CN_DIGITS[ones] : 0;
    if (tensValue === undefined || onesValue === undefined) return null;
    return tensValue * 10 + onesValue;
  }
  return text.length === 1 ? CN_DIGITS[text] : null;
}

export function normalizeText(value) {
  if (value === null || value === undefined) return '';
  const text = String(value).normalize('NFKC').replace(/\s+/gu, '');
  return [...text].map((ch) => TRAD_TO_SIMP[ch] || ch).join('');
}

export function normalizeGroup(value) {
  const text = normalizeText(value);
  const match = GROUP.exec(text);
  if (match) {
    const number = chineseNumber(match[1]);
    if (number !== null && number > 0) return `${number}组`;
  }
  return text;
}

export function normalizeName(value) {
  return normalizeText(value).replace(/[•‧・]/g, '·');
}

const MOBILE = /^1[3-9]\d{9}$/;
const LANDLINE = /^0\d{2,3}-?\d{7,8}$/;

export function normalizePhone(value) {
  if (value === null || value === undefined) return '';
  let text = String(value).normalize('NFKC').replace(/[\s()（）]/gu, '');
  if (text.startsWith('+86')) text = text.slice(3);
  else if (text.startsWith('86') && text.length === 13) text = text.slice(2);
  if (LANDLINE.test(text) && !text.includes('-')) {
    const area = text.slice(0, 4) === '0714' || text.length === 12 ? 4 : 3;
    text = `${text.slice(0, area)}-${text.slice(area)}`;
  }
  return text;
}

export function phoneError(value) {
  if (MOBILE.test(value) || LANDLINE.test(value)) return null;
  return '联系电话应为11位手机号（1开头）或带区号的固定电话（如 0714-1234567）';
}

const readers = new WeakMap();

/** The name readings of GET /api/v1/pinyin as lookups (built once per table). */
function reader(table) {
  if (!table) return {byChar: new Map(), surnames: {}, given: {}, compound: {}};
  let found = readers.get(table);
  if (!found) {
    const byChar = new Map();
    for (const [syllable, chars] of Object.entries(table.readings || {})) for (const c of chars) byChar.set(c, syllable);
    found = {byChar, surnames: table.surnames || {}, given: table.given || {}, compound: table.compound || {}};
    readers.set(table, found);
  }
  return found;
}

/**
 * {full: 'wang jian guo', initials: 'wjg'}, as name_pinyin in sync/normalize.py
 * reads a name (surnames and given names read as names); ``table`` is the
 * server's reading table, and a character it lacks is read as itself.
 */
export function namePinyin(name, table) {
  const t = reader(table);
  const read = (c) => t.byChar.get(c) || c.toLowerCase();
  const chars = [...(name || '')].filter((c) => c.trim() && c !== '·');
  const syllables = [];
  let rest = chars.slice(1);
  const compound = t.compound[chars.slice(0, 2).join('')];
  if (compound) {
    syllables.push(...compound);
    rest = chars.slice(2);
  } else if (chars.length) {
    syllables.push(t.surnames[chars[0]] || read(chars[0]));
  }
  for (const c of rest) syllables.push(t.given[c] || read(c));
  return {full: syllables.join(' '), initials: syllables.filter((s) => /^\p{L}/u.test(s)).map((s) => Array.from(s)[0]).join('')};
}
