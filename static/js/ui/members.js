// 家庭成员 (form 2024.1): one card per member, from the repeat's fields. Members
// come prefilled (the pull: roster, then last visit); adding asks a reason
// (新生, 婚入, 其他), removing a prefilled one too (迁出, 死亡, 其他) and keeps it
// greyed with change 'removed'; editing one marks it 'edited'. A prefilled member
// with valid answers is a two-line summary until 修改 opens its questions (an added
// one, or one with an error, is open). State in the draft:
// entries = [{origin: 'prefill'|'new', inputs: {field id: string}}].

import {evaluate, truthy} from '../expr.js';
import {parseNumber} from '../form.js';
import {maskId} from '../idnumber.js';
import {h, setText} from './dom.js';

/** Entries (the draft's state) from a repeat answer (JSON records). */
export function entriesFrom(repeat, records) {
  return (Array.isArray(records) ? records : []).filter((r) => r && typeof r === 'object').map((r) => ({
    origin: r.change === 'added' ? 'new' : 'prefill',
    inputs: Object.fromEntries(repeat.fields.filter((f) => f.type !== 'computed').map((f) => [f.id, toInput(r[f.id])])),
  }));
}

function toInput(value) {
  if (value === null || value === undefined) return '';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return String(value);
}

/** The JSON records the form validates (hidden answers dropped, as collect() does for the form). */
export function recordsOf(form, repeat, entries, data, settings) {
  return entries.map((entry) => {
    const out = {};
    for (const f of repeat.fields) {
      if (f.type === 'computed') continue;
      const raw = entry.inputs[f.id];
      if (raw === undefined || raw === null || String(raw).trim() === '') continue;
      if (f.type === 'yesno') out[f.id] = raw === 'true' ? true : raw === 'false' ? false : raw;
      else if (f.type === 'int') out[f.id] = parseNumber(String(raw));
      else out[f.id] = raw;
    }
    for (const f of repeat.fields) {
      if (f.visible && out[f.id] !== undefined && !truthy(evaluate(f.visible, {...data, ...out}, settings))) delete out[f.id];
    }
    return out;
  });
}

/** The change reasons that may go with ``change`` ('added' or 'removed'), from the definition. */
function reasons(repeat, change) {
  const f = repeat.fields.find((x) => x.id === 'change_reason');
  return (f?.choices || []).filter((c) => !c.when || truthy(evaluate(c.when, {change})));
}

/** The editor over ``state.entries``; ``onChange(structural)`` after each change. */
export function membersEditor(form, repeat, state, onChange) {
  const list = h('div', {class: 'members-list', id: 'members-list'});
  const addReasons = h('div', {class: 'options reasons', id: 'member-add-reasons', hidden: true},
    h('span', {class: 'muted'}, '新增原因：'),
    reasons(repeat, 'added').map((c) => h('button', {type: 'button', class: 'button', dataset: {addReason: c.code},
      onclick: () => add(c.code)}, c.label)));
  const addButton = h('button', {type: 'button', class: 'button wide', id: 'member-add',
    onclick: () => { addReasons.hidden = !addReasons.hidden; }}, '＋ 添加成员');
  const root = h('div', {class: 'members-editor'}, list, addButton, addReasons);
  const cards = [];
  const opened = new Set(); // entries whose questions are shown
  let last = null; // the arguments of the last update()

  function add(reason) {
    addReasons.hidden = true;
    state.entries.push({origin: 'new', inputs: {change: 'added', change_reason: reason}});
    render();
    onChange(true);
    cards.at(-1)?.querySelector('input')?.focus();
  }

  function remove(index, reason) {
    const entry = state.entries[index];
    if (entry.origin === 'new') state.entries.splice(index, 1);
    else Object.assign(entry.inputs, {change: 'removed', change_reason: reason});
    render();
    onChange(true);
  }

  function restore(index) {
    Object.assign(state.entries[index].inputs, {change: '', change_reason: ''});
    render();
    onChange(true);
  }

  function onInput(event, index) {
    const name = event.target.dataset.member;
    if (!name) return;
    const entry = state.entries[index];
    entry.inputs[name] = event.target.value;
    if (entry.origin === 'prefill' && !entry.inputs.change && name !== 'change_reason') entry.inputs.change = 'edited';
    if (event.type === 'change') state.touched.add(`${repeat.id}.${index}.${name}`);
    onChange(false);
  }

  function card(entry, index) {
    const removed = entry.inputs.change === 'removed';
    const title = h('strong', {}, `成员 ${index + 1}`);
    const head = h('div', {class: 'member-head row'}, title);
    const el = h('fieldset', {class: `member card${removed ? ' removed' : ''}`, dataset: {index: String(index)}}, head);
    if (removed) {
      const reason = reasons(repeat, 'removed').find((c) => c.code === entry.inputs.change_reason);
      head.append(h('span', {class: 'badge warn'}, `已减少（${reason?.label || '未选原因'}）`),
        h('button', {type: 'button', class: 'button', dataset: {restore: String(index)}, onclick: () => restore(index)}, '撤销'));
      el.append(h('p', {class: 'muted'}, [entry.inputs.name, maskId(entry.inputs.id_number)].filter(Boolean).join(' · ')));
      return el;
    }
    const removeReasons = h('div', {class: 'options reasons', hidden: true},
      h('span', {class: 'muted'}, '减少原因：'),
      reasons(repeat, 'removed').map((c) => h('button', {type: 'button', class: 'button', dataset: {removeReason: c.code},
        onclick: () => remove(index, c.code)}, c.label)));
    if (entry.origin === 'prefill') {
      head.append(h('button', {type: 'button', class: 'button member-toggle', dataset: {toggle: String(index)},
        onclick: () => toggle(index)}, '修改'));
    }
    head.append(h('button', {type: 'button', class: 'button member-remove', dataset: {remove: String(index)},
      onclick: () => {
        if (entry.origin === 'new') remove(index, null);
        else removeReasons.hidden = !removeReasons.hidden;
      }}, entry.origin === 'new' ? '取消添加' : '减少成员'));
    el.append(removeReasons, h('p', {class: 'member-summary muted'}));
    el.addEventListener('input', (event) => onInput(event, index));
    el.addEventListener('change', (event) => onInput(event, index));
    if (entry.origin === 'new' || opened.has(entry)) open(el, entry, index);
    return el;
  }

  /** Show a member's questions (built the first time; 收起 hides them again). */
  function open(el, entry, index) {
    opened.add(entry);
    if (!el.querySelector('.member-body')) {
      // change is set by the buttons above
      el.append(h('div', {class: 'member-body'}, repeat.fields.filter((f) => f.id !== 'change').map((f) => memberField(f, entry, index))));
    }
    el.classList.add('open');
    setText(el.querySelector('.member-toggle'), '收起');
  }

  function toggle(index) {
    const el = cards[index];
    if (opened.delete(state.entries[index])) {
      el.classList.remove('open');
      setText(el.querySelector('.member-toggle'), '修改');
    } else {
      open(el, state.entries[index], index);
    }
    update(...last);
  }

  function memberField(f, entry, index) {
    const id = `m-${index}-${f.id}`;
    const value = entry.inputs[f.id] ?? '';
    let control;
    if (f.type === 'computed') {
      control = h('output', {id, class: 'computed', dataset: {computed: f.id}}, '—');
    } else if (f.type === 'yesno' || f.type === 'choice') {
      const options = f.type === 'yesno' ? [['true', '是'], ['false', '否']] : f.choices.map((c) => [c.code, c.label]);
      control = h('select', {id, name: `${repeat.id}.${index}.${f.id}`, dataset: {member: f.id}},
        h('option', {value: ''}, '请选择'),
        options.map(([code, label]) => h('option', {value: code, selected: value === code}, label)));
    } else {
      const attrs = {id, name: `${repeat.id}.${index}.${f.id}`, value, autocomplete: 'off', type: 'text', dataset: {member: f.id}};
      if (f.type === 'int') attrs.inputmode = 'numeric';
      if (f.type === 'id18') Object.assign(attrs, {maxlength: 18, inputmode: 'text'});
      control = h('input', attrs);
    }
    return h('div', {class: `field field-${f.type}`, dataset: {memberField: f.id}},
      h('label', {for: id}, f.label), control, h('p', {class: 'error', id: `${id}-error`}));
  }

  function render() {
    cards.length = 0;
    list.replaceChildren(...state.entries.map((entry, index) => {
      const el = card(entry, index);
      cards.push(el);
      return el;
    }));
  }

  /** A closed member in two lines: who, then how they are. */
  const summary = (record) => [['relation', 'sex', 'birth_date', 'id_number'], ['health', 'skill', 'work', 'work_months', 'school']]
    .map((ids) => ids.map((id) => (id === 'id_number' ? maskId(record[id]) : id === 'work_months' ? record[id] && `${record[id]}个月`
      : repeat.fields.find((f) => f.id === id).choices?.find((c) => c.code === record[id])?.label ?? record[id]))
      .filter(Boolean).join(' · ')).join('\n');

  /** Errors, skip logic, derived birth date and sex; a member with an error opens. */
  function update(result, data, settings, showAll) {
    last = [result, data, settings, showAll];
    const records = result.values[repeat.id] || [];
    cards.forEach((el, index) => {
      const record = Array.isArray(records) ? records[index] || {} : {};
      const entry = state.entries[index];
      const name = entry?.inputs.name;
      setText(el.querySelector('.member-head strong'), `成员 ${index + 1}${name ? `：${name}` : ''}`);
      if (entry?.inputs.change === 'removed') return;
      const prefix = `${repeat.id}.${index}.`;
      if (!opened.has(entry) && Object.keys(result.errors).some((key) => key.startsWith(prefix))) open(el, entry, index);
      if (!opened.has(entry)) {
        setText(el.querySelector('.member-summary'), summary(record));
        return;
      }
      el.querySelectorAll('[data-member-field]').forEach((wrapper) => {
        const f = repeat.fields.find((x) => x.id === wrapper.dataset.memberField);
        if (f.type === 'computed') {
          setText(wrapper.querySelector('output'), record[f.id] ?? '—');
          return;
        }
        wrapper.hidden = Boolean(f.visible) && !truthy(evaluate(f.visible, {...data, ...record}, settings));
        const key = `${prefix}${f.id}`;
        const messages = showAll || state.touched.has(key) ? result.errors[key] || [] : [];
        setText(wrapper.querySelector('.error'), messages.join('；'));
        wrapper.classList.toggle('has-error', messages.length > 0);
      });
    });
  }

  /** The field of an error key (members.0.name); update() opened its member. */
  function wrapperOf(key) {
    const [, index, field] = key.split('.');
    return cards[Number(index)]?.querySelector(`[data-member-field="${field}"]`) || cards[Number(index)] || root;
  }

  render();
  return {el: root, update, wrapperOf, render};
}
