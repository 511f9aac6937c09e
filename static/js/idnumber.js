// Chinese resident ID numbers (GB 11643-1999), as sync/idnumber.py checks them.

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS = '10X98765432';

export function normalizeId(raw) {
  if (raw === null || raw === undefined) return '';
  return String(raw).normalize('NFKC').replace(/[\s-]/gu, '').toUpperCase();
}

export function checkChar(first17) {
  let total = 0;
  for (let i = 0; i < 17; i += 1) total += Number(first17[i]) * WEIGHTS[i];
  return CHECK_CHARS[total % 11];
}

function birthDate(id) {
  const y = Number(id.slice(6, 10));
  const m = Number(id.slice(10, 12));
  const d = Number(id.slice(12, 14));
  if (y < 1 || m < 1 || m > 12 || d < 1) return null;
  const days = new Date(Date.UTC(y, m, 0)).getUTCDate();
  if (d > days) return null;
  return {y, m, d};
}

function looksExcelMangled(raw) {
  if (typeof raw === 'number') return true;
  const text = normalizeId(raw);
  return /^\d(\.\d+)?E\+?\d+$/.test(text) || /^\d{15,18}\.0+$/.test(text);
}

/** {value, error} for a typed ID; ``today`` is 'YYYY-MM-DD' (China). */
export function validateId(raw, today) {
  const value = normalizeId(raw);
  if (!value) return {value, error: '请填写身份证号'};
  if (looksExcelMangled(raw)) {
    return {value, error: '身份证号被 Excel 转成了数字（科学计数法或末位变 0），请把该列设为文本后重新填写'};
  }
  const length = Array.from(value).length;
  if (length !== 18) return {value, error: `身份证号应为18位，现为${length}位`};
  if (!/^\d{17}[\dX]$/.test(value)) return {value, error: '身份证号格式错误：前17位应为数字，最后一位为数字或X'};
  const born = birthDate(value);
  const iso = born && `${String(born.y).padStart(4, '0')}-${String(born.m).padStart(2, '0')}-${String(born.d).padStart(2, '0')}`;
  if (!born || born.y < 1900 || iso > today) return {value, error: '身份证号中的出生日期无效'};
  if (checkChar(value.slice(0, 17)) !== value[17]) return {value, error: '身份证号校验位错误'};
  return {value, error: null};
}

export function maskId(value) {
  if (!value) return '';
  if (value.length <= 10) return value.slice(0, 2) + '*'.repeat(Math.max(0, value.length - 2));
  return value.slice(0, 6) + '*'.repeat(value.length - 10) + value.slice(-4);
}

export function maskPhone(value) {
  if (!value) return '';
  if (value.length === 11 && /^\d+$/.test(value)) return `${value.slice(0, 3)}****${value.slice(-4)}`;
  return value.slice(0, 4) + '*'.repeat(Math.max(0, value.length - 6)) + value.slice(-2);
}
