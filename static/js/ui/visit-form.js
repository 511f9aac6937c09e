// The visit form, rendered from the form definition (/api/v1/form, kept in
// meta). Inputs carry the field ids as ``name``; skip logic (``visible``),
// computed fields and flags update as the worker types; every change is
// written to the draft; 保存 moves the visit into the outbox.

import * as store from '../db.js';
import {Form, todayInChina} from '../form.js';
import {maskId} from '../idnumber.js';
import {findDraft, isoNow, newUuid, saveDraft, saveVisit} from '../outbox.js';
import {syncNow} from '../sync.js';
import {h, toast} from './dom.js';
import {signaturePad} from './signature.js';

const HOUSEHOLD_TOP = ['head_name', 'head_id', 'phone', 'group', 'hamlet', 'size', 'labor_count', 'category',
  'monitor_type', 'risk_eliminated'];

let s = null; // the open form's state

/** A JSON value as the input's string (or list of strings for multi). */
function toInput(f, value) {
  if (value === null || value === undefined) return f.type === 'multi' ? [] : '';
  if (f.type === 'multi') return Array.isArray(value) ? [...value] : [];
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return String(value);
}

async function loadFormDoc() {
  const doc = await store.getMeta('form');
  if (!doc) throw new Error('手机上还没有排查表：请联网后同步一次');
  return doc;
}

/** Work out which visit the URL asks for: a household, a new household, a correction, an edit. */
async function openDraft(params, owner, user) {
  const now = isoNow();
  const base = {owner, started_at: now, inputs: {}, supersedes: null, village: null, base_rev: null, household_id: null};
  if (params.get('edit')) {
    const record = await store.get('outbox', params.get('edit'));
    if (!record) throw new Error('找不到这条待同步的记录');
    const key = `edit:${record.uuid}`;
    const draft = await findDraft(owner, key);
    return {draft: draft || {...base, ...pick(record), uuid: record.uuid, household_key: key, data: record.data,
      from_outbox: true},
      serverErrors: record.errors || {}, record};
  }
  if (params.get('correct')) {
    const old = await store.get('visits', params.get('correct'));
    if (!old) throw new Error('找不到这条被退回的记录');
    const key = `correct:${old.uuid}`;
    const household = old.household_id ? await store.get('households', old.household_id) : null;
    const draft = await findDraft(owner, key);
    return {draft: draft || {...base, uuid: newUuid(), household_key: key, household_id: old.household_id,
      base_rev: household?.rev ?? null, supersedes: old.uuid, label: old.label || household?.head_name,
      data: old.data || householdData(household)}, returned: old, household};
  }
  if (params.get('new')) {
    const key = 'new';
    const draft = await findDraft(owner, key);
    return {draft: draft || {...base, uuid: newUuid(), household_key: key, village: (user.villages || [])[0] || null,
      data: {}}, isNew: true};
  }
  const id = params.get('h');
  const household = id ? await store.get('households', id) : null;
  if (!household) throw new Error('找不到这户：请返回列表重新选择');
  const draft = await findDraft(owner, id);
  if (draft) return {draft, household};
  const pending = (await store.getAllByIndex('outbox', 'owner', owner)).find((r) => r.household_id === id);
  if (pending) {
    return {draft: {...base, ...pick(pending), uuid: pending.uuid, household_key: id, data: pending.data,
      from_outbox: true},
      serverErrors: pending.errors || {}, household, record: pending};
  }
  return {draft: {...base, uuid: newUuid(), household_key: id, household_id: id, base_rev: household.rev ?? null,
    label: household.head_name, data: householdData(household)}, household};
}

function pick(record) {
  const {household_id, base_rev, supersedes, village, started_at, label} = record;
  return {household_id, base_rev, supersedes, village, started_at, label};
}

function householdData(household) {
  if (!household) return {};
  const data = {...(household.attributes || {})};
  for (const key of HOUSEHOLD_TOP) if (household[key] !== undefined && household[key] !== null) data[key] = household[key];
  return data;
}

export async function show(container, {params, auth, go, scope, updatePendingBadge, requestBackgroundSync}) {
  const doc = await loadFormDoc();
  const form = new Form(doc.form);
  const campaign = doc.campaign || {};
  const owner = auth.user.username;
  const opened = await openDraft(params, owner, auth.user);
  const draft = opened.draft;
  if (!draft.inputs || !Object.keys(draft.inputs).length) {
    const data = {...(draft.data || {})};
    if (!data.visited_on) data.visited_on = todayInChina();
    draft.inputs = Object.fromEntries(form.inputFields.map((f) => [f.id, toInput(f, data[f.id])]));
  }
  delete draft.data;
  s = {form, campaign, draft, go, scope, updatePendingBadge, requestBackgroundSync, owner,
    touched: new Set(), submitted: false, dirty: false,
    serverErrors: opened.serverErrors || {}, context: {monitoring_line: campaign.monitoring_line ?? 7600,
      start: campaign.start_date || null, end: campaign.end_date || null},
    wrappers: {}, saveTimer: null, saving: null};

  const title = opened.isNew ? '新增农户（花名册外）' : `${draft.label || opened.household?.head_name || ''}`;
  const head = h('div', {class: 'form-head card'},
    h('h1', {}, title),
    opened.household ? h('p', {class: 'muted'}, `${opened.household.village} ${opened.household.group} · ${opened.household.code || ''} · ${maskId(opened.household.head_id)}`) : null,
    opened.returned ? h('div', {class: 'notice warn', id: 'review-comment'}, h('strong', {}, '审核退回意见：'), opened.returned.review_comment || '（无）') : null,
    Object.keys(s.serverErrors).length ? h('div', {class: 'notice bad', id: 'server-errors'}, h('strong', {}, '服务器拒收：'),
      Object.entries(s.serverErrors).map(([k, msgs]) => h('div', {}, `${form.byId[k]?.label || k}：${[].concat(msgs).join('；')}`))) : null);
  const formEl = h('form', {class: 'visit-form', id: 'visit-form', novalidate: true});
  if (opened.isNew && (auth.user.villages || []).length > 1) {
    const select = h('select', {id: 'new-village', 'aria-label': '村'},
      auth.user.villages.map((v) => h('option', {value: v, selected: v === draft.village}, v)));
    select.addEventListener('change', () => { draft.village = select.value; changed(true); });
    formEl.append(h('div', {class: 'field'}, h('label', {for: 'new-village'}, '村'), select));
  }
  for (const section of form.sections) {
    const fieldset = h('fieldset', {class: 'section card', dataset: {section: section.id}}, h('legend', {}, section.label));
    for (const f of form.fields.filter((x) => x.section === section.id)) fieldset.append(renderField(f));
    formEl.append(fieldset);
  }
  s.flagsEl = h('div', {class: 'flags', id: 'flags', 'aria-live': 'polite'});
  s.statusEl = h('p', {class: 'save-status muted', id: 'save-status', role: 'status'});
  const saveButton = h('button', {type: 'submit', class: 'primary big wide', id: 'save-visit'}, '保存');
  formEl.append(s.flagsEl, h('div', {class: 'form-actions'}, s.statusEl, saveButton,
    h('a', {class: 'button wide', href: scope, 'data-link': true}, '返回列表（草稿已保存）')));
  formEl.addEventListener('input', onInput);
  formEl.addEventListener('change', onInput);
  formEl.addEventListener('submit', async (event) => {
    event.preventDefault();
    saveButton.disabled = true;
    try { await submit(); } finally { saveButton.disabled = false; }
  });
  container.append(head, formEl);
  s.formEl = formEl;
  update();
}

function renderField(f) {
  const id = `f-${f.id}`;
  const value = s.draft.inputs[f.id];
  let control;
  if (f.type === 'computed') {
    control = h('output', {id, name: f.id, class: 'computed'}, '—');
  } else if (f.type === 'yesno') {
    control = radios(f, [['true', '是'], ['false', '否']], value);
  } else if (f.type === 'choice') {
    control = radios(f, f.choices.map((c) => [c.code, c.label]), value);
  } else if (f.type === 'multi') {
    control = h('div', {class: 'options multi', role: 'group', 'aria-labelledby': `${id}-label`},
      f.choices.map((c) => h('label', {class: 'option'},
        h('input', {type: 'checkbox', name: f.id, value: c.code, checked: (value || []).includes(c.code)}),
        h('span', {}, c.label), h('span', {class: 'order', dataset: {code: c.code}}))));
  } else if (f.type === 'image') {
    control = signaturePad({name: f.id, value, onChange: (dataUrl) => {
      s.draft.inputs[f.id] = dataUrl || '';
      s.touched.add(f.id);
      changed(true);
    }});
  } else if (f.multiline) {
    control = h('textarea', {id, name: f.id, maxlength: f.max_len || null, rows: 3}, value || '');
  } else {
    const attrs = {id, name: f.id, value: value || '', autocomplete: 'off'};
    if (f.type === 'date') attrs.type = 'date';
    else if (f.type === 'phone') Object.assign(attrs, {type: 'tel', inputmode: 'tel'});
    else if (f.type === 'int') Object.assign(attrs, {type: 'text', inputmode: 'numeric'});
    else if (f.type === 'money') Object.assign(attrs, {type: 'text', inputmode: 'decimal'});
    else Object.assign(attrs, {type: 'text'});
    control = h('input', attrs);
  }
  const label = ['yesno', 'choice', 'multi', 'image'].includes(f.type)
    ? h('span', {class: 'label', id: `${id}-label`}, f.label) : h('label', {for: id}, f.label);
  const wrapper = h('div', {class: `field field-${f.type}`, dataset: {field: f.id}},
    label, h('span', {class: 'req', hidden: true}, '必填'), control, h('p', {class: 'error', id: `${id}-error`}));
  s.wrappers[f.id] = wrapper;
  return wrapper;
}

function radios(f, options, value) {
  return h('div', {class: 'options', role: 'radiogroup', 'aria-labelledby': `f-${f.id}-label`},
    options.map(([code, label]) => h('label', {class: 'option'},
      h('input', {type: 'radio', name: f.id, value: code, checked: value === code}), h('span', {}, label))));
}

function onInput(event) {
  const target = event.target;
  const f = s.form.byId[target.name];
  if (!f) return;
  if (f.type === 'multi') {
    const list = [...(s.draft.inputs[f.id] || [])].filter((c) => c !== target.value);
    if (target.checked) list.push(target.value); // keeps the order chosen (first = main risk)
    s.draft.inputs[f.id] = list;
  } else if (f.type !== 'image') {
    s.draft.inputs[f.id] = target.value;
  }
  if (event.type === 'change') s.touched.add(f.id);
  delete s.serverErrors[f.id];
  changed(event.type === 'change');
}

function changed(now) {
  s.dirty = true;
  update();
  clearTimeout(s.saveTimer);
  if (now) flush();
  else s.saveTimer = setTimeout(flush, 250);
}

/** Write the draft now (on every change, before a reload, when the page hides). */
export async function flush() {
  if (!s || !s.dirty) return s?.saving;
  clearTimeout(s.saveTimer);
  s.dirty = false;
  const draft = {...s.draft, inputs: {...s.draft.inputs}};
  s.saving = saveDraft(draft).then(() => {
    if (s && !s.dirty) s.statusEl.textContent = `草稿已自动保存 ${new Date().toLocaleTimeString('zh-CN')}`;
  }).catch((error) => {
    if (s) s.statusEl.textContent = `草稿保存失败：${error.message}`;
  });
  return s.saving;
}

/** The answers as JSON values; answers of hidden fields are dropped (skip logic). */
function collect() {
  const {form} = s;
  const data = form.coerceStrings(s.draft.inputs);
  const settings = {monitoring_line: s.context.monitoring_line};
  for (let pass = 0; pass < 2; pass += 1) {
    for (const f of form.inputFields) if (f.visible && !form.isVisible(f, data, settings)) data[f.id] = null;
  }
  return data;
}

function update() {
  const {form} = s;
  const data = collect();
  const settings = {monitoring_line: s.context.monitoring_line};
  const result = form.validate(data, s.context);
  s.result = result;
  s.data = data;
  for (const f of form.fields) {
    const wrapper = s.wrappers[f.id];
    if (!wrapper) continue;
    const visible = f.type === 'computed' || form.isVisible(f, data, settings);
    wrapper.hidden = !visible;
    if (f.type === 'computed') {
      const v = result.values[f.id];
      wrapper.querySelector('output').textContent = v === null || v === undefined ? '—' : `${v.toLocaleString('zh-CN')} 元`;
      continue;
    }
    wrapper.querySelector('.req').hidden = !(visible && form.isRequired(f, result.values, settings));
    const show = s.submitted || s.touched.has(f.id);
    const messages = [...(show ? result.errors[f.id] || [] : []), ...[].concat(s.serverErrors[f.id] || [])];
    wrapper.querySelector('.error').textContent = messages.join('；');
    wrapper.classList.toggle('has-error', messages.length > 0);
    if (f.type === 'multi' && f.ordered) {
      const order = s.draft.inputs[f.id] || [];
      wrapper.querySelectorAll('.order').forEach((el) => {
        const i = order.indexOf(el.dataset.code);
        el.textContent = i < 0 ? '' : (i === 0 ? '（主要）' : `（${i + 1}）`);
      });
    }
  }
  const flags = form.flagRules.filter((flag) => result.flags[flag.id]);
  s.flagsEl.replaceChildren(...(flags.length ? [h('strong', {}, '提示：'), ...flags.map((flag) => h('span', {class: 'badge warn', dataset: {flag: flag.id}}, flag.label))] : []));
}

async function submit() {
  s.submitted = true;
  update();
  const errors = Object.keys(s.result.errors);
  if (errors.length) {
    toast(`还有 ${errors.length} 处需要修改`, 'bad');
    const first = s.wrappers[errors[0]];
    first?.scrollIntoView({block: 'center'});
    first?.querySelector('input, textarea, select')?.focus({preventScroll: true});
    return;
  }
  s.statusEl.textContent = '正在保存…';
  const values = {...s.result.values};
  const draft = {...s.draft, label: s.draft.label || values.head_name};
  await s.saving;
  try {
    await saveVisit(draft, values, {campaignId: s.campaign.id, formVersion: s.form.version});
  } catch (error) {
    s.statusEl.textContent = `保存失败：${error.message}（草稿仍在）`;
    toast('保存失败，请重试', 'bad');
    return;
  }
  // The transaction is complete: the visit is on disk.
  s.dirty = false;
  toast('已保存', 'ok');
  const {go, scope, updatePendingBadge, requestBackgroundSync} = s;
  s = null;
  updatePendingBadge();
  requestBackgroundSync();
  syncNow('save');
  go(scope);
}

export function isDirty() { return Boolean(s); }

export async function leave() {
  await flush();
  s = null;
}
