// The form's expression language, evaluated exactly as sync/expr.py does.
//
// Expressions are a subset of Python syntax: or / and / not, chained
// comparisons, + - * /, unary -, calls of round round2 len sum contains
// id_birth id_sex age, count any all (and two-argument sum) over a repeat,
// field ids, $settings, numbers, strings, true/false/null (and Python's
// True/False/None). Python's semantics are kept on purpose, not JS's:
// null counts as 0 in arithmetic, x/0 is null, comparisons with null are
// false, [] and '' are falsy, False == 0, and/or return booleans, len()
// counts code points, round() rounds half up. Anything outside the
// language throws ExpressionError (Python raises too).
// tests/worker/test_expr_parity.py evaluates one table in both languages.

export class ExpressionError extends Error {}

const own = (object, key) => Object.prototype.hasOwnProperty.call(object, key);

const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'is', 'if', 'else', 'for', 'lambda', 'while',
  'def', 'class', 'return', 'import', 'from', 'as', 'with', 'yield', 'await', 'async', 'del',
  'pass', 'raise', 'try', 'except', 'finally', 'global', 'nonlocal', 'assert', 'break',
  'continue', 'elif']);
const CONSTANTS = {true: true, false: false, null: null, True: true, False: false, None: null};
const COMPARE_OPS = new Set(['==', '!=', '<', '<=', '>', '>=']);

function tokenize(source) {
  const text = source.replace(/\$([A-Za-z_][A-Za-z0-9_]*)/g, '__setting_$1');
  const tokens = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (/\s/.test(ch)) { i += 1; continue; }
    const rest = text.slice(i);
    let m = /^(?:0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+)/.exec(rest);
    if (m) {
      tokens.push({type: 'num', value: Number(m[0].replace(/_/g, '').replace(/^0[oO]/, '0o').replace(/^0[bB]/, '0b').replace(/^0[xX]/, '0x'))});
      i += m[0].length; continue;
    }
    m = /^(?:(?:\d(?:_?\d)*)?\.\d(?:_?\d)*|\d(?:_?\d)*\.?)(?:[eE][+-]?\d(?:_?\d)*)?/.exec(rest);
    if (m && m[0] !== '.') {
      const raw = m[0].replace(/_/g, '');
      if (/^0\d/.test(raw) && /^\d+$/.test(raw) && /[1-9]/.test(raw)) throw new ExpressionError(`bad number in ${source}`);
      if (/^[A-Za-z_]/.test(text.slice(i + m[0].length))) throw new ExpressionError(`bad number in ${source}`);
      tokens.push({type: 'num', value: Number(raw)});
      i += m[0].length; continue;
    }
    m = /^([rRuU]?)('|")/.exec(rest);
    if (m) {
      const raw = m[1].toLowerCase() === 'r';
      const quote = m[2];
      let j = i + m[0].length;
      let value = '';
      for (;;) {
        if (j >= text.length || text[j] === '\n') throw new ExpressionError(`unterminated string in ${source}`);
        const c = text[j];
        if (c === quote) { j += 1; break; }
        if (c === '\\' && !raw) {
          const n = text[j + 1];
          const simple = {'\\': '\\', "'": "'", '"': '"', n: '\n', t: '\t', r: '\r', '0': '\0', a: '\x07', b: '\b', f: '\f', v: '\v'};
          if (own(simple, n)) { value += simple[n]; j += 2; continue; }
          const hex = {x: 2, u: 4, U: 8}[n];
          if (hex) {
            const digits = text.slice(j + 2, j + 2 + hex);
            if (!new RegExp(`^[0-9a-fA-F]{${hex}}$`).test(digits)) throw new ExpressionError(`bad escape in ${source}`);
            value += String.fromCodePoint(parseInt(digits, 16)); j += 2 + hex; continue;
          }
          throw new ExpressionError(`unsupported escape in ${source}`);
        }
        if (c === '\\' && raw) { value += c + (text[j + 1] ?? ''); j += 2; continue; }
        value += c; j += 1;
      }
      tokens.push({type: 'str', value});
      i = j; continue;
    }
    m = /^[A-Za-z_\u00C0-\uFFFF][A-Za-z0-9_\u00C0-\uFFFF]*/.exec(rest);
    if (m) {
      tokens.push({type: 'name', value: m[0]});
      i += m[0].length; continue;
    }
    m = /^(?:==|!=|<=|>=|\*\*|\/\/|[-+*/%<>(),~&|^.[\]=@:])/.exec(rest);
    if (m) {
      tokens.push({type: 'op', value: m[0]});
      i += m[0].length; continue;
    }
    throw new ExpressionError(`bad character ${JSON.stringify(ch)} in ${source}`);
  }
  tokens.push({type: 'end'});
  return tokens;
}

// [fewest, most] arguments; sum takes any number (two may be a repeat and a rule).
const FUNCTION_ARITY = {round: [1, 1], round2: [1, 1], len: [1, 1], contains: [2, 2], sum: null,
  id_birth: [1, 1], id_sex: [1, 1], age: [2, 2], count: [1, 2], any: [2, 2], all: [2, 2]};
const REPEAT_FUNCTIONS = new Set(['count', 'any', 'all']);

class Parser {
  constructor(source) {
    this.source = source;
    this.tokens = tokenize(source);
    this.pos = 0;
  }

  peek() { return this.tokens[this.pos]; }
  next() { return this.tokens[this.pos++]; }
  isOp(value) { const t = this.peek(); return t.type === 'op' && t.value === value; }
  isWord(value) { const t = this.peek(); return t.type === 'name' && t.value === value; }
  fail(what) { throw new ExpressionError(`${what} not allowed in ${this.source}`); }

  parse() {
    const node = this.parseOr();
    if (this.peek().type !== 'end') this.fail(`token ${JSON.stringify(this.peek().value)}`);
    return node;
  }

  parseOr() {
    const values = [this.parseAnd()];
    while (this.isWord('or')) { this.next(); values.push(this.parseAnd()); }
    return values.length === 1 ? values[0] : {kind: 'or', values};
  }

  parseAnd() {
    const values = [this.parseNot()];
    while (this.isWord('and')) { this.next(); values.push(this.parseNot()); }
    return values.length === 1 ? values[0] : {kind: 'and', values};
  }

  parseNot() {
    if (this.isWord('not')) { this.next(); return {kind: 'not', operand: this.parseNot()}; }
    return this.parseComparison();
  }

  parseComparison() {
    const left = this.parseArith();
    const ops = [];
    const comparators = [];
    for (;;) {
      const t = this.peek();
      if (t.type === 'op' && COMPARE_OPS.has(t.value)) {
        this.next(); ops.push(t.value); comparators.push(this.parseArith());
      } else if (this.isWord('in') || this.isWord('is')
          || (this.isWord('not') && this.tokens[this.pos + 1].type === 'name' && this.tokens[this.pos + 1].value === 'in')) {
        this.fail(`operator ${t.value}`);
      } else {
        break;
      }
    }
    return ops.length ? {kind: 'compare', left, ops, comparators} : left;
  }

  parseArith() {
    let node = this.parseTerm();
    while (this.isOp('+') || this.isOp('-')) {
      const op = this.next().value;
      node = {kind: 'bin', op, left: node, right: this.parseTerm()};
    }
    if (this.isOp('|') || this.isOp('&') || this.isOp('^')) this.fail('bit operator');
    return node;
  }

  parseTerm() {
    let node = this.parseFactor();
    for (;;) {
      if (this.isOp('*') || this.isOp('/')) {
        const op = this.next().value;
        node = {kind: 'bin', op, left: node, right: this.parseFactor()};
      } else if (this.isOp('//') || this.isOp('%') || this.isOp('@')) {
        this.fail(`operator ${this.peek().value}`);
      } else {
        return node;
      }
    }
  }

  parseFactor() {
    if (this.isOp('-')) { this.next(); return {kind: 'neg', operand: this.parseFactor()}; }
    if (this.isOp('+') || this.isOp('~')) this.fail('unary operator');
    const node = this.parsePrimary();
    if (this.isOp('**')) this.fail('power');
    return node;
  }

  parsePrimary() {
    const t = this.next();
    let node;
    if (t.type === 'num' || t.type === 'str') {
      node = {kind: 'const', value: t.value};
      while (t.type === 'str' && this.peek().type === 'str') node.value += this.next().value;
    } else if (t.type === 'name') {
      if (own(CONSTANTS, t.value)) node = {kind: 'const', value: CONSTANTS[t.value]};
      else if (KEYWORDS.has(t.value)) this.fail(`keyword ${t.value}`);
      else node = {kind: 'name', id: t.value};
    } else if (t.type === 'op' && t.value === '(') {
      node = this.parseOr();
      if (this.isOp(',')) this.fail('tuple');
      if (!this.isOp(')')) this.fail('unbalanced parenthesis');
      this.next();
      node = {kind: 'group', node};
    } else {
      this.fail(t.type === 'end' ? 'end of expression' : `token ${JSON.stringify(t.value)}`);
    }
    if (this.isOp('(')) {
      if (node.kind !== 'name' || !own(FUNCTION_ARITY, node.id)) this.fail('unknown function');
      this.next();
      const args = [];
      while (!this.isOp(')')) {
        if (this.isOp('*')) this.fail('starred argument');
        const arg = this.parseOr();
        if (this.isOp('=')) this.fail('keyword argument');
        args.push(arg);
        if (this.isOp(',')) { this.next(); continue; }
        if (!this.isOp(')')) this.fail('argument list');
      }
      this.next();
      const arity = FUNCTION_ARITY[node.id];
      if (arity && (args.length < arity[0] || args.length > arity[1])) this.fail(`${node.id}() with ${args.length} arguments`);
      node = {kind: 'call', name: node.id, args};
    }
    if (this.isOp('.') || this.isOp('[') || this.isOp('(')) this.fail('attribute, subscript or call');
    if (this.peek().type === 'num' || this.peek().type === 'str' || (this.peek().type === 'name' && !['and', 'or', 'not', 'in', 'is', 'if', 'else', 'for'].includes(this.peek().value))) {
      this.fail('juxtaposition');
    }
    return node.kind === 'group' ? node.node : node;
  }
}

const cache = new Map();

/** Parse once (cached); throws ExpressionError for anything outside the language. */
export function compile(source) {
  let tree = cache.get(source);
  if (!tree) {
    tree = new Parser(source).parse();
    if (cache.size > 512) cache.clear();
    cache.set(source, tree);
  }
  return tree;
}

/** Field ids an expression reads. */
export function namesIn(source) {
  const found = new Set();
  const walk = (node) => {
    if (node.kind === 'name' && !node.id.startsWith('__setting_')) found.add(node.id);
    for (const key of ['values', 'args', 'comparators']) (node[key] || []).forEach(walk);
    for (const key of ['operand', 'left', 'right']) if (node[key]) walk(node[key]);
  };
  walk(compile(source));
  return found;
}

/** Evaluate ``source`` over the answers ``data`` and campaign ``settings``. */
export function evaluate(source, data, settings = {}) {
  return evalNode(compile(source), data || {}, settings || {});
}

const lookup = (object, key) => (own(object, key) && object[key] !== undefined ? object[key] : null);

export function toNumber(value) {
  if (value === null || value === undefined || value === false) return 0;
  if (value === true) return 1;
  if (typeof value === 'number') return value;
  throw new ExpressionError(`not a number: ${JSON.stringify(value)}`);
}

/** Python's truth value. */
export function truthy(value) {
  if (value === null || value === undefined) return false;
  if (typeof value === 'number') return value !== 0;
  if (typeof value === 'string' || Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return Boolean(value);
}

/** Python's ==: numbers and booleans compare by value, lists element-wise. */
export function pyEquals(a, b) {
  if (a === null || a === undefined || b === null || b === undefined) {
    return (a === null || a === undefined) && (b === null || b === undefined);
  }
  const numeric = (v) => typeof v === 'number' || typeof v === 'boolean';
  if (numeric(a) && numeric(b)) return Number(a) === Number(b);
  if (typeof a === 'string' && typeof b === 'string') return a === b;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => pyEquals(item, b[i]));
  }
  return false;
}

export function roundHalfUp(value, digits = 0) {
  if (value === null || value === undefined) return null;
  const factor = 10 ** digits;
  const scaled = toNumber(value) * factor + 0.5;
  if (!Number.isFinite(scaled)) throw new ExpressionError('cannot round an infinite number');
  return Math.floor(scaled) / factor;
}

const FUNCTIONS = {
  round: (x) => roundHalfUp(x, 0),
  round2: (x) => roundHalfUp(x, 2),
  len: (x) => {
    if (x === null || x === undefined) return 0;
    if (typeof x === 'string') return Array.from(x).length;
    if (Array.isArray(x)) return x.length;
    throw new ExpressionError('len() of a value without length');
  },
  contains: (container, item) => {
    if (container === null || container === undefined) return false;
    if (Array.isArray(container)) return container.some((c) => pyEquals(c, item));
    if (typeof container === 'string') {
      if (typeof item !== 'string') throw new ExpressionError('contains() on text needs text');
      return container.includes(item);
    }
    throw new ExpressionError('contains() needs a list');
  },
  sum: (...values) => values.reduce((total, v) => total + toNumber(v), 0),
  id_birth: (x) => idBirth(x),
  id_sex: (x) => (typeof x === 'string' && ID_BIRTH.test(x) ? (Number(x[16]) % 2 ? '男' : '女') : null),
  age: (birth, on) => age(birth, on),
};

const ID_BIRTH = /^\d{6}(\d{4})(\d{2})(\d{2})\d{3}[\dX]$/;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function validDate(y, m, d) {
  if (!(y >= 1 && m >= 1 && m <= 12 && d >= 1)) return false;
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  return d <= [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1];
}

/** The birth date in an 18-character ID number, as sync/expr.py id_birth. */
export function idBirth(x) {
  const m = typeof x === 'string' ? ID_BIRTH.exec(x) : null;
  if (!m || !validDate(Number(m[1]), Number(m[2]), Number(m[3]))) return null;
  return `${m[1]}-${m[2]}-${m[3]}`;
}

/** Whole years from birth to on (both 'YYYY-MM-DD'), as sync/expr.py age. */
export function age(birth, on) {
  const parts = [birth, on].map((v) => (typeof v === 'string' ? ISO_DATE.exec(v) : null));
  if (!parts[0] || !parts[1]) return null;
  const [by, bm, bd] = parts[0].slice(1).map(Number);
  const [oy, om, od] = parts[1].slice(1).map(Number);
  if (!validDate(by, bm, bd) || !validDate(oy, om, od)) return null;
  return oy - by - (om < bm || (om === bm && od < bd) ? 1 : 0);
}

/** The records of a repeat answer (null is none); anything else is an error. */
function records(repeat) {
  if (repeat === null || repeat === undefined) return [];
  if (!Array.isArray(repeat) || repeat.some((r) => r === null || typeof r !== 'object' || Array.isArray(r))) {
    throw new ExpressionError('not a repeat');
  }
  return repeat;
}

/** count / any / all, and sum of two arguments: the rule is evaluated in each record's scope. */
function overRecords(node, data, settings) {
  const first = evalNode(node.args[0], data, settings);
  const rule = node.args[1];
  const inRecord = (r) => evalNode(rule, {...data, ...r}, settings);
  if (node.name === 'sum') {
    if (Array.isArray(first)) return records(first).reduce((total, r) => total + toNumber(inRecord(r)), 0);
    return toNumber(first) + toNumber(evalNode(rule, data, settings));
  }
  const list = records(first);
  if (node.name === 'count') return rule ? list.filter((r) => truthy(inRecord(r))).length : list.length;
  if (node.name === 'any') return list.some((r) => truthy(inRecord(r)));
  return list.every((r) => truthy(inRecord(r)));
}

function compare(op, left, right) {
  if (op === '==') return pyEquals(left, right);
  if (op === '!=') return !pyEquals(left, right);
  if (left === null || left === undefined || right === null || right === undefined) return false;
  const a = toNumber(left);
  const b = toNumber(right);
  if (op === '<') return a < b;
  if (op === '<=') return a <= b;
  if (op === '>') return a > b;
  return a >= b;
}

function evalNode(node, data, settings) {
  switch (node.kind) {
    case 'const': return node.value;
    case 'name':
      if (node.id.startsWith('__setting_')) return lookup(settings, node.id.slice('__setting_'.length));
      return lookup(data, node.id);
    case 'and':
      for (const v of node.values) if (!truthy(evalNode(v, data, settings))) return false;
      return true;
    case 'or':
      for (const v of node.values) if (truthy(evalNode(v, data, settings))) return true;
      return false;
    case 'not': return !truthy(evalNode(node.operand, data, settings));
    case 'neg': return -toNumber(evalNode(node.operand, data, settings));
    case 'bin': {
      const left = toNumber(evalNode(node.left, data, settings));
      const right = toNumber(evalNode(node.right, data, settings));
      if (node.op === '+') return left + right;
      if (node.op === '-') return left - right;
      if (node.op === '*') return left * right;
      return right === 0 ? null : left / right;
    }
    case 'compare': {
      let left = evalNode(node.left, data, settings);
      for (let i = 0; i < node.ops.length; i += 1) {
        const right = evalNode(node.comparators[i], data, settings);
        if (!compare(node.ops[i], left, right)) return false;
        left = right;
      }
      return true;
    }
    case 'call': {
      if (REPEAT_FUNCTIONS.has(node.name) || (node.name === 'sum' && node.args.length === 2)) {
        return overRecords(node, data, settings);
      }
      const args = node.args.map((a) => evalNode(a, data, settings));
      return FUNCTIONS[node.name](...args);
    }
    default:
      throw new ExpressionError(`cannot evaluate ${node.kind}`);
  }
}
