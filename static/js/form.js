// The visit form's rules on the phone: a port of FormDefinition.validate in
// sync/form.py over the JSON that /api/v1/form serves (the same definition),
// so that the worker sees the server's Chinese messages before syncing.
// tests/worker/test_form_parity.py runs both validators over one table.

import {evaluate, namesIn, truthy} from './expr.js';
import {validateId} from './idnumber.js';
import {normalizeGroup, normalizeName, normalizePhone, phoneError} from './normalize.js';

const DEFAULT_TEXT_MAX = 200;
const NAME = /^[\u3400-\u9fffA-Za-z·]+$/;
const CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/;
// Bidi controls and zero-width characters, refused as the server does (sync/form.py);
// the joiners only in one-line answers (they build emoji in free text).
const INVISIBLE = /[\u061c\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069]/;
const JOINERS = /[\u200c\u200d]/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const PNG_PREFIX = 'data:image/png;base64,';

const codePoints = (text) => Array.from(text).length;

/** Today's date in China as 'YYYY-MM-DD' (the server's reference day). */
export function todayInChina(now = new Date()) {
  const shifted = new Date(now.getTime() + 8 * 3600 * 1000);
  return shifted.toISOString().slice(0, 10);
}

/** The 走访日期 a new visit starts with: today inside the campaign (or before it:
 *  the form then says why it is refused), else the campaign's last day. */
export function defaultVisitDate(today, start, end) {
  return end && today > end ? end : today;
}

function addDays(iso, days) {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

function isEmpty(value) {
  return value === null || value === undefined || (typeof value === 'string' && value.trim() === '')
    || (Array.isArray(value) && value.length === 0);
}

/** The FormDefinition of sync/form.py over the JSON of ``to_json()``. */
export class Form {
  constructor(json) {
    this.json = json;
    this.version = json.version;
    this.messages = json.messages;
    this.sections = json.sections;
    this.fields = json.fields;
    this.byId = Object.fromEntries(json.fields.map((f) => [f.id, f]));
    this.checks = json.checks || [];
    this.flagRules = json.flags || [];
    this.inputFields = this.fields.filter((f) => f.type !== 'computed');
    this.repeats = this.fields.filter((f) => f.type === 'repeat');
    this.order = new Map(this.fields.map((f, i) => [f.id, i]));
    this.flagInputs = this.flagInputIds();
  }

  /** Each flag's input fields: the ids its rule reads, through computed fields and earlier flags. */
  flagInputIds() {
    const flags = Object.fromEntries(this.flagRules.map((flag) => [flag.id, flag]));
    const expand = (source, seen) => {
      for (const id of namesIn(source)) {
        if (seen.has(id)) continue;
        seen.add(id);
        if (this.byId[id]?.type === 'computed') expand(this.byId[id].formula, seen);
        else if (flags[id]) expand(flags[id].rule, seen);
      }
      return seen;
    };
    return Object.fromEntries(this.flagRules.map((flag) => [flag.id,
      [...expand(flag.rule, new Set())].filter((id) => this.byId[id] && this.byId[id].type !== 'computed')]));
  }

  /** ``ids`` in the order of the form. */
  inFormOrder(ids) {
    return ids.filter((id) => this.order.has(id)).sort((a, b) => this.order.get(a) - this.order.get(b));
  }

  /** The shown, required questions still unanswered, in form order. */
  missing(values, settings) {
    return this.inputFields.filter((f) => this.isVisible(f, values, settings) && this.isRequired(f, values, settings)
      && isEmpty(values[f.id])).map((f) => f.id);
  }

  /** A flag is shown once the answers it reads are in: no required question it
   *  depends on is unanswered (an untouched income section is not "below the line"). */
  flagReady(flag, values, settings) {
    const open = new Set(this.missing(values, settings));
    return !this.flagInputs[flag.id].some((id) => open.has(id));
  }

  /** May ``choice`` of ``f`` be chosen for these answers (its ``when``)? */
  choiceAllowed(choice, values, settings) {
    return !choice.when || Boolean(evaluate(choice.when, values, settings));
  }

  message(key, f, extra = {}) {
    return this.messages[key].replace(/\{(\w+)\}/g, (_, name) => (name === 'label' ? f.label : String(extra[name])));
  }

  /**
   * Normalise and check ``data``; returns {values, errors, flags} like the server.
   * ``context``: {monitoring_line, start, end, today} (dates as 'YYYY-MM-DD').
   */
  validate(data, context = {}) {
    const ctx = {monitoring_line: 7600, start: null, end: null, today: null, ...context};
    const settings = {monitoring_line: ctx.monitoring_line};
    const errors = {};
    const values = {};
    const add = (id, message) => { (errors[id] = errors[id] || []).push(message); };
    for (const key of Object.keys(data)) if (!this.byId[key]) add(key, this.messages.unknown_field);
    for (const f of this.inputFields) {
      const raw = Object.prototype.hasOwnProperty.call(data, f.id) ? data[f.id] : null;
      if (isEmpty(raw)) { values[f.id] = null; continue; }
      const [value, error] = this.checkType(f, raw, ctx);
      values[f.id] = value;
      if (error) add(f.id, error);
    }
    let scope = values;
    const itemPending = [];
    if (this.repeats.length) {
      scope = {...values};
      for (const repeat of this.repeats) scope[repeat.id] = this.checkRecords(repeat, values, add, ctx, itemPending);
    }
    this.compute(values, scope);
    for (const f of this.inputFields) {
      if (errors[f.id]) continue;
      const error = this.checkRelations(f, scope, settings);
      if (error) add(f.id, error);
    }
    for (const [key, f, record] of itemPending) {
      const error = this.checkRelations(f, {...scope, ...record}, settings);
      if (error) add(key, error);
    }
    for (const repeat of this.repeats) this.checkUnique(repeat, values, errors);
    for (const check of this.checks) {
      if (errors[check.field]) continue;
      if (evaluate(check.when, scope, settings) && !evaluate(check.require, scope, settings)) {
        add(check.field, check.message);
      }
    }
    return {values, errors, flags: this.computeFlags(scope, settings)};
  }

  compute(values, scope = values) {
    for (const f of this.fields) {
      if (f.type === 'computed') { values[f.id] = evaluate(f.formula, scope); scope[f.id] = values[f.id]; }
    }
  }

  /** The error key of a record's field: ``members.0.id_number``. */
  itemKey(repeat, index, fieldId) { return `${repeat}.${index}.${fieldId}`; }

  /** The records of a repeat that count (its ``active`` rule). */
  activeRecords(repeat, records) {
    if (!Array.isArray(records) || !repeat.active) return records;
    return records.filter((r) => r && typeof r === 'object' && truthy(evaluate(repeat.active, r)));
  }

  /** Each record of ``values[repeat.id]`` normalised in place, its relation checks
   *  queued (as _RepeatPlan.check_records in sync/form.py); the records that count. */
  checkRecords(repeat, values, add, ctx, pending) {
    const given = values[repeat.id];
    if (!Array.isArray(given)) return given;
    const ids = new Set(repeat.fields.map((f) => f.id));
    const inputs = repeat.fields.filter((f) => f.type !== 'computed');
    const records = given.map((item, index) => {
      const record = Object.fromEntries([...inputs, ...repeat.fields.filter((f) => f.type === 'computed')].map((f) => [f.id, null]));
      for (const key of Object.keys(item)) if (!ids.has(key)) add(this.itemKey(repeat.id, index, key), this.messages.unknown_field);
      for (const f of inputs) {
        const raw = Object.prototype.hasOwnProperty.call(item, f.id) ? item[f.id] : null;
        const key = this.itemKey(repeat.id, index, f.id);
        if (!isEmpty(raw)) {
          const [value, error] = this.checkType(f, raw, ctx);
          record[f.id] = value;
          if (error) { add(key, error); continue; }
        }
        pending.push([key, f, record]);
      }
      for (const f of repeat.fields) if (f.type === 'computed') record[f.id] = evaluate(f.formula, record);
      return record;
    });
    values[repeat.id] = records;
    return this.activeRecords(repeat, records);
  }

  /** The ``unique`` field differs between records (a later one names the first). */
  checkUnique(repeat, values, errors) {
    const records = values[repeat.id];
    if (!repeat.unique || !Array.isArray(records)) return;
    const f = repeat.fields.find((x) => x.id === repeat.unique);
    const first = new Map();
    records.forEach((record, index) => {
      const value = record[repeat.unique];
      const key = this.itemKey(repeat.id, index, repeat.unique);
      if (value === null || value === undefined || errors[key]) return;
      if (first.has(value)) errors[key] = [this.message('duplicate', f, {other: first.get(value) + 1})];
      else first.set(value, index);
    });
  }

  /** ``values`` as the expressions see them (a repeat holds its records that count). */
  scope(values) {
    const scope = {...values};
    for (const repeat of this.repeats) scope[repeat.id] = this.activeRecords(repeat, values[repeat.id]);
    return scope;
  }

  computeFlags(values, settings) {
    const scope = {...values};
    const flags = {};
    for (const flag of this.flagRules) {
      flags[flag.id] = Boolean(evaluate(flag.rule, scope, settings));
      scope[flag.id] = flags[flag.id];
    }
    return flags;
  }

  /** Is the field shown for these answers (its ``visible`` expression)? */
  isVisible(f, values, settings) {
    return !f.visible || Boolean(evaluate(f.visible, values, settings));
  }

  isRequired(f, values, settings) {
    return typeof f.required === 'boolean' ? f.required : Boolean(evaluate(f.required, values, settings));
  }

  checkRelations(f, values, settings) {
    const value = values[f.id];
    const required = typeof f.required === 'string' ? Boolean(evaluate(f.required, values, settings)) : Boolean(f.required);
    if (value === null || value === undefined || (Array.isArray(value) && value.length === 0)) {
      if (required) return this.message(['choice', 'multi', 'yesno'].includes(f.type) ? 'required_choice' : 'required', f);
      return null;
    }
    if (f.empty_unless && !evaluate(f.empty_unless, values, settings)) return this.message('empty', f);
    if (f.max_field && values[f.max_field] !== null && values[f.max_field] !== undefined && value > values[f.max_field]) {
      return this.message('max_field', f, {other: this.byId[f.max_field].label});
    }
    const selected = f.type === 'multi' && Array.isArray(value) ? value : f.type === 'choice' ? [value] : [];
    for (const code of selected) {
      const choice = f.choices.find((c) => c.code === code);
      if (!this.choiceAllowed(choice, values, settings)) {
        return this.message('choice_not_allowed', f, {value: choice.label, reason: choice.reason || '不可选'});
      }
    }
    return null;
  }

  checkType(f, raw, ctx) {
    const checker = TYPES[f.type];
    if (!checker) throw new Error(`unknown field type ${f.type}`);
    return checker.call(this, f, raw, ctx);
  }

  /** The HTML inputs' strings to JSON values, as ``coerce_strings`` does. */
  coerceStrings(form) {
    const data = {};
    for (const f of this.inputFields) {
      const raw = form[f.id];
      if (f.type === 'multi') {
        const items = (Array.isArray(raw) ? raw : raw ? [raw] : []).filter((i) => i);
        data[f.id] = items.length ? items : null;
        continue;
      }
      if (raw === null || raw === undefined || (typeof raw === 'string' && raw.trim() === '')) {
        data[f.id] = null;
      } else if (f.type === 'yesno') {
        const map = {true: true, 1: true, yes: true, 是: true, false: false, 0: false, no: false, 否: false};
        const key = String(raw).trim();
        data[f.id] = Object.prototype.hasOwnProperty.call(map, key) ? map[key] : raw;
      } else if (f.type === 'int' || f.type === 'money') {
        data[f.id] = parseNumber(String(raw));
      } else if (f.type === 'repeat' && typeof raw === 'string') {
        try { data[f.id] = JSON.parse(raw); } catch (error) { data[f.id] = raw; }
      } else {
        data[f.id] = raw;
      }
    }
    return data;
  }
}

export function parseNumber(text) {
  const cleaned = text.trim().replace(/[,，]/g, '');
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(cleaned)) return text;
  return Number(cleaned);
}

function range(f, value) {
  if (f.min !== undefined && f.min !== null && value < f.min) return [value, this.message('min', f, {min: f.min})];
  if (f.max !== undefined && f.max !== null && value > f.max) return [value, this.message('max', f, {max: f.max})];
  return [value, null];
}

const TYPES = {
  text(f, raw) {
    if (typeof raw !== 'string') return [null, this.message('required', f)];
    let text = raw.trim();
    if (f.format === 'name') {
      text = normalizeName(text);
      const n = codePoints(text);
      if (!(n >= 2 && n <= 20 && NAME.test(text))) return [text, this.message('name', f)];
    }
    if (INVISIBLE.test(text) || (!f.multiline && JOINERS.test(text))) return [text, this.message('invisible', f)];
    const control = CONTROL.test(text.replace(/[\n\t\r]/g, ''));
    if (control || (!f.multiline && (text.includes('\n') || text.includes('\r')))) {
      return [text, `${f.label}含有不可见的控制字符或换行`];
    }
    const max = f.max_len ?? DEFAULT_TEXT_MAX;
    if (codePoints(text) > max) return [text, this.message('max_len', f, {max})];
    if (f.min_len && codePoints(text) < f.min_len) return [text, this.message('min_len', f, {min: f.min_len})];
    return [text, null];
  },
  id18(f, raw, ctx) {
    if (typeof raw !== 'string') return [null, `${f.label}应为文本（18位），不能是数字`];
    const check = validateId(raw, ctx.today || todayInChina());
    return [check.value, check.error];
  },
  phone(f, raw) {
    if (typeof raw !== 'string') return [null, `${f.label}应为文本`];
    const phone = normalizePhone(raw);
    return [phone, phoneError(phone)];
  },
  group(f, raw) {
    if (!(typeof raw === 'string' || (typeof raw === 'number' && Number.isInteger(raw)))) {
      return [null, this.message('required', f)];
    }
    const label = normalizeGroup(typeof raw === 'number' ? `${raw}组` : raw);
    if (!label) return [null, this.message('required', f)];
    if (INVISIBLE.test(label) || JOINERS.test(label)) return [label, this.message('invisible', f)];
    const max = f.max_len ?? DEFAULT_TEXT_MAX;
    if (codePoints(label) > max || CONTROL.test(label)) return [label, this.message('max_len', f, {max})];
    return [label, null];
  },
  int(f, raw) {
    if (typeof raw !== 'number' || !Number.isInteger(raw)) return [null, this.message('int', f)];
    return range.call(this, f, raw);
  },
  money(f, raw) {
    if (typeof raw !== 'number' || !Number.isFinite(raw)) return [null, this.message('number', f)];
    if (Math.abs(raw) > 2 ** 53) {
      // as the server: bounds first, and the value is not kept for the computed fields
      const [, error] = range.call(this, f, raw);
      return [null, error || this.message('number', f)];
    }
    const cents = raw * 100;
    if (Math.abs(cents - Math.round(cents)) > 1e-6) return [null, this.message('number', f)];
    const value = Number.isInteger(raw) ? raw : Math.round(raw * 100) / 100;
    return range.call(this, f, value);
  },
  yesno(f, raw) {
    if (typeof raw !== 'boolean') return [null, this.message('yesno', f)];
    return [raw, null];
  },
  choice(f, raw) {
    if (typeof raw !== 'string' || !f.choices.some((c) => c.code === raw)) return [null, this.message('choice', f)];
    return [raw, null];
  },
  multi(f, raw) {
    const codes = new Set(f.choices.map((c) => c.code));
    if (!Array.isArray(raw) || raw.some((c) => typeof c !== 'string' || !codes.has(c))) return [null, this.message('choice', f)];
    const unique = [...new Set(raw)];
    if (f.max_items && unique.length > f.max_items) return [unique, this.message('multi_max', f, {max: f.max_items})];
    return [unique, null];
  },
  date(f, raw, ctx) {
    if (typeof raw !== 'string' || !DATE.test(raw)) return [null, this.message('date', f)];
    const [y, m, d] = raw.split('-').map(Number);
    const days = m >= 1 && m <= 12 ? new Date(Date.UTC(y, m, 0)).getUTCDate() : 0;
    if (y < 1 || d < 1 || d > days) return [null, this.message('date', f)];
    const today = ctx.today || todayInChina();
    if (f.not_future && raw > addDays(today, 1)) return [raw, this.message('date_future', f)];
    if (f.within_campaign && ctx.start && ctx.end) {
      if (!(addDays(ctx.start, -1) <= raw && raw <= addDays(ctx.end, 1))) {
        return [raw, this.message('date_campaign', f, {start: ctx.start, end: ctx.end})];
      }
    }
    return [raw, null];
  },
  repeat(f, raw) {
    if (!Array.isArray(raw) || raw.some((item) => item === null || typeof item !== 'object' || Array.isArray(item))) {
      return [null, this.message('repeat', f)];
    }
    const most = f.max_items ?? 20;
    if (raw.length > most) return [null, this.message('repeat_max', f, {max: most})];
    return [raw, null];
  },
  image(f, raw) {
    if (typeof raw !== 'string' || !raw.startsWith(PNG_PREFIX)) return [null, this.message('image', f)];
    const b64 = raw.slice(PNG_PREFIX.length);
    let bytes;
    try {
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) throw new Error('bad base64');
      bytes = atob(b64);
    } catch (error) {
      return [null, this.message('image', f)];
    }
    if (!bytes.startsWith('\x89PNG\r\n\x1a\n')) return [null, this.message('image', f)];
    const maxKb = f.max_kb ?? 200;
    if (bytes.length > maxKb * 1024) return [null, this.message('image_size', f, {max: maxKb})];
    return [raw, null];
  },
};
