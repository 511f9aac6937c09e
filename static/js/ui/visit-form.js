// The visit form, rendered from the form definition (/api/v1/form, kept in
// meta). Inputs carry the field ids as ``name``; skip logic (``visible``),
// computed fields and flags update as the worker types; every change is
// written to the draft; 保存 moves the visit into the outbox. Choices whose
// condition (``when``) fails are not offered; a flag shows once the answers
// it reads are in. A household typed in (新增农户) is checked against the
// households on the phone before it is saved (doorstep.js).

import * as store from '../db.js';
import {likelyMatches} from '../doorstep.js';
import {defaultVisitDate, Form, todayInChina} from '../form.js';
import {maskId} from '../idnumber.js';
import {allPending, deleteDraft, findDraft, isoNow, newUuid, saveDraft, saveVisit} from '../outbox.js';
import {locate} from '../location.js';
import {compress, objectUrl} from '../photos.js';
import {isNewHousehold, localHousehold} from '../search.js';
import {syncNow} from '../sync.js';
import {doorstepPanel} from './doorstep-panel.js';
import {h, toast} from './dom.js';
import {entriesFrom, membersEditor, recordsOf} from './members.js';
import {goTo, jumpBar, missingButton} from './form-nav.js';
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
async function openDraft(params, owner, user, doc) {
  const now = isoNow();
  const base = {owner, started_at: now, inputs: {}, supersedes: null, village: null, base_rev: null, household_id: null,
    photos: []};
  if (params.get('edit')) {
    const record = await store.get('outbox', params.get('edit'));
    if (!record) throw new Error('找不到这条待同步的记录');
    const key = `edit:${record.uuid}`;
    const draft = await findDraft(owner, key);
    return {draft: draft || {...base, ...pick(record), uuid: record.uuid, household_key: key, data: record.data,
      from_outbox: true},
      serverErrors: record.errors || {}, record, typedIn: isNewHousehold(record)};
  }
  if (params.get('correct')) {
    const old = await store.get('visits', params.get('correct'));
    if (!old) throw new Error('找不到这条被退回的记录');
    const key = `correct:${old.uuid}`;
    const household = old.household_id ? await store.get('households', old.household_id) : null;
    const draft = await findDraft(owner, key);
    const resign = old.return_kind === 'resign' && Boolean(old.data); // the answers came with it
    const data = old.data ? {...old.data} : householdData(household);
    if (resign) for (const f of doc.form.fields) if (f.type === 'image') delete data[f.id]; // to be signed again
    return {draft: draft || {...base, uuid: newUuid(), household_key: key, household_id: old.household_id,
      base_rev: household?.rev ?? null, supersedes: old.uuid, label: old.label || household?.head_name,
      data}, returned: old, household, resign};
  }
  if (params.get('new')) {
    const key = 'new';
    const draft = await findDraft(owner, key);
    return {draft: draft || {...base, uuid: newUuid(), household_key: key, village: (user.villages || [])[0] || null,
      data: {}}, isNew: true, typedIn: true};
  }
  const id = params.get('h');
  const household = id ? await store.get('households', id) : null;
  if (!household) throw new Error('找不到这户：请返回列表重新选择');
  // A supervisor's phone holds masked ID numbers and phones (the server's pull):
  // a visit prefilled with them could not be saved, or would erase the real ones.
  if (household.masked) throw new Error('本账号下载的身份证号和电话已脱敏，不能在手机上填写这户的排查表，请由本村网格员入户排查');
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
  const {household_id, base_rev, supersedes, village, started_at, label, photos = []} = record;
  return {household_id, base_rev, supersedes, village, started_at, label, photos};
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
  const opened = await openDraft(params, owner, auth.user, doc);
  const draft = opened.draft;
  const today = todayInChina();
  const outside = Boolean(campaign.end_date && (today > campaign.end_date || today < campaign.start_date));
  if (!draft.inputs || !Object.keys(draft.inputs).length) {
    const data = {...(draft.data || {})};
    if (!data.visited_on) data.visited_on = defaultVisitDate(today, campaign.start_date, campaign.end_date);
    draft.inputs = Object.fromEntries(form.inputFields.map((f) => [f.id,
      f.type === 'repeat' ? entriesFrom(f, data[f.id]) : toInput(f, data[f.id])]));
  }
  delete draft.data;
  s = {form, campaign, draft, go, scope, updatePendingBadge, requestBackgroundSync, owner,
    touched: new Set(), submitted: false, dirty: false, resign: Boolean(opened.resign),
    serverErrors: opened.serverErrors || {}, context: {monitoring_line: campaign.monitoring_line ?? 7600,
      start: campaign.start_date || null, end: campaign.end_date || null},
    wrappers: {}, members: {}, saveTimer: null, saving: null, photoUrls: new Map()};
  s.settings = {monitoring_line: s.context.monitoring_line};

  const title = opened.isNew ? '新增农户（花名册外）' : `${draft.label || opened.household?.head_name || ''}`;
  const place = opened.household ? [opened.household.village, opened.household.group].filter(Boolean).join(' ') : '';
  const head = h('div', {class: 'form-head card'},
    h('h1', {}, title),
    opened.household ? h('p', {class: 'muted'}, [place, opened.household.code, maskId(opened.household.head_id)].filter(Boolean).join(' · ')) : null,
    opened.typedIn && !opened.isNew ? h('p', {class: 'muted'}, '本机新增的农户，同步前可修改') : null,
    opened.returned ? h('div', {class: 'notice warn', id: 'review-comment'}, h('strong', {}, '审核退回意见：'), opened.returned.review_comment || '（无）') : null,
    s.resign ? h('div', {class: 'notice info', id: 'resign-notice'}, h('strong', {}, '仅需重签：'), '其他回答保持不变，请农户在下方重新签字后保存。') : null,
    outside ? h('div', {class: 'notice warn', id: 'campaign-notice'},
      `今天（${today}）不在排查期间（${campaign.start_date}至${campaign.end_date}）。走访日期${today > campaign.end_date ? '已预填为排查期间最后一天，' : ''}请按实际走访日期填写。`) : null,
    Object.keys(s.serverErrors).length ? h('div', {class: 'notice bad', id: 'server-errors'}, h('strong', {}, '服务器拒收：'),
      Object.entries(s.serverErrors).map(([k, msgs]) => h('div', {}, `${errorLabel(form, k)}：${[].concat(msgs).join('；')}`))) : null);
  const formEl = h('form', {class: 'visit-form', id: 'visit-form', novalidate: true});
  if (opened.typedIn) s.doorstep = await doorstep(draft.uuid);
  if (opened.typedIn && (auth.user.villages || []).length > 1) {
    const select = h('select', {id: 'new-village', 'aria-label': '村'},
      auth.user.villages.map((v) => h('option', {value: v, selected: v === draft.village}, v)));
    select.addEventListener('change', () => { draft.village = select.value; changed(true); });
    formEl.append(h('div', {class: 'field'}, h('label', {for: 'new-village'}, '村'), select));
  }
  const fieldsets = {};
  for (const section of form.sections) {
    const fieldset = h('fieldset', {class: 'section card', dataset: {section: section.id}}, h('legend', {}, section.label));
    for (const f of form.fields.filter((x) => x.section === section.id)) fieldset.append(renderField(f));
    fieldsets[section.id] = fieldset;
    formEl.append(fieldset);
  }
  if (s.doorstep) {
    // Under the questions it is about, where the worker is typing.
    s.wrappers[form.inFormOrder(IDENTITY).at(-1)]?.after(s.doorstep.panel);
  }
  if (s.resign) {
    // Every answer stands: only the signature can be given again.
    for (const f of form.fields) if (f.type !== 'image') s.wrappers[f.id].inert = true;
  }
  s.jumpBar = jumpBar(form.sections, fieldsets);
  s.missingButton = missingButton(s.wrappers);
  formEl.append(photoCard(doc.photos?.per_visit ?? 3));
  locate().catch(() => null); // asks for the permission now, and warms the fix used at 保存
  s.flagsEl = h('div', {class: 'flags', id: 'flags', 'aria-live': 'polite'});
  s.statusEl = h('p', {class: 'save-status muted', id: 'save-status', role: 'status'});
  // Not a submit button: a form submission first walks every control (autofill).
  const saveButton = h('button', {type: 'button', class: 'primary big wide', id: 'save-visit'}, '保存');
  formEl.append(s.flagsEl, h('div', {class: 'form-actions'}, s.statusEl,
    h('div', {class: 'row'}, s.missingButton, saveButton),
    h('a', {class: 'button wide', href: scope, 'data-link': true, id: 'back-to-list'}, '返回列表（草稿已保存）')));
  formEl.addEventListener('input', onInput);
  formEl.addEventListener('change', onInput);
  formEl.addEventListener('submit', (event) => event.preventDefault());
  saveButton.addEventListener('click', async () => {
    saveButton.disabled = true;
    try { await submit(); } finally { saveButton.disabled = false; }
  });
  container.append(s.jumpBar, head, formEl);
  s.formEl = formEl;
  update();
}

function renderField(f) {
  const id = `f-${f.id}`;
  const value = s.draft.inputs[f.id];
  let control;
  if (f.type === 'computed') {
    control = h('output', {id, name: f.id, class: 'computed'}, '—');
  } else if (f.type === 'repeat') {
    if (!Array.isArray(s.draft.inputs[f.id])) s.draft.inputs[f.id] = [];
    const editor = membersEditor(s.form, f, {entries: s.draft.inputs[f.id], touched: s.touched}, (structural) => {
      if (structural) s.touched.add(f.id);
      changed(structural);
    });
    s.members[f.id] = editor;
    control = editor.el;
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
  const label = ['yesno', 'choice', 'multi', 'image', 'repeat'].includes(f.type)
    ? h('span', {class: 'label', id: `${id}-label`}, f.label) : h('label', {for: id}, f.label);
  const wrapper = h('div', {class: `field field-${f.type}`, dataset: {field: f.id}},
    label, h('span', {class: 'req', hidden: true}, '必填'), control, h('p', {class: 'error', id: `${id}-error`}));
  s.wrappers[f.id] = wrapper;
  return wrapper;
}

/** 入户照片: taken with the camera, compressed, kept in the draft (thumbnails here). */
function photoCard(limit) {
  const input = h('input', {type: 'file', accept: 'image/*', capture: 'environment', id: 'photo-input', multiple: true,
    hidden: true});
  const add = h('label', {for: 'photo-input', class: 'button', id: 'photo-add'}, '拍照');
  const list = h('div', {class: 'photo-list', id: 'photo-list'});
  const note = h('p', {class: 'muted', id: 'photo-note'});
  const urls = s.photoUrls; // photo id → its thumbnail's URL
  let turn = 0;
  const render = async () => {
    const mine = ++turn;
    const photos = s.draft.photos || [];
    for (const p of photos) if (!urls.has(p.id)) urls.set(p.id, await objectUrl(p));
    if (mine !== turn || !s) return; // a later render, or the form was left
    for (const [id, url] of urls) {
      if (!photos.some((p) => p.id === id)) { URL.revokeObjectURL(url); urls.delete(id); }
    }
    list.replaceChildren(...photos.map((p) => h('figure', {class: 'photo', dataset: {id: p.id}},
      h('img', {src: urls.get(p.id), alt: '入户照片', class: 'photo-thumb'}),
      h('button', {type: 'button', onclick: () => {
        s.draft.photos = photos.filter((x) => x.id !== p.id);
        render();
        changed(true);
      }}, '删除'))));
    note.textContent = `入户照片 ${photos.length}/${limit}（同步时上传）`;
    add.hidden = photos.length >= limit;
  };
  input.addEventListener('change', async () => {
    const files = [...input.files].slice(0, limit - (s.draft.photos || []).length);
    input.value = '';
    note.textContent = '正在压缩照片…';
    for (const file of files) {
      try {
        const photo = await compress(file);
        if (!s) return;
        s.draft.photos = [...(s.draft.photos || []), photo];
      } catch (error) {
        toast('无法读取这张照片', 'bad');
      }
    }
    render();
    changed(true);
  });
  render();
  return h('fieldset', {class: 'section card', id: 'photos'}, h('legend', {}, '入户照片'), note, list, add, input);
}

function radios(f, options, value) {
  return h('div', {class: 'options', role: 'radiogroup', 'aria-labelledby': `f-${f.id}-label`},
    options.map(([code, label]) => h('label', {class: 'option', dataset: {code}},
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
  if (event.type === 'change' && IDENTITY.includes(f.id)) checkDoorstep();
}

const IDENTITY = ['head_name', 'head_id', 'group'];

/** The duplicate check of a household typed in: the phone's households (pulled and
 *  typed in, this one left out) and the name readings, loaded once per form. */
async function doorstep(ownUuid) {
  const [households, pending, table, auth] = await Promise.all([store.getAll('households'), allPending(),
    store.getMeta('pinyin'), store.getMeta('auth')]);
  const mine = pending.filter((r) => r.owner === auth?.user?.username && isNewHousehold(r) && r.uuid !== ownUuid);
  const panel = doorstepPanel({
    onOpen: async (x) => {
      // The same household: this 新增农户 is given up (not its outbox record, if it has one).
      const {go, scope, draft} = s;
      clearTimeout(s.saveTimer);
      s.dirty = false;
      await s.saving;
      await deleteDraft(draft.uuid);
      close();
      go(x.local ? `${scope}visit?edit=${encodeURIComponent(x.uuid)}` : `${scope}visit?h=${encodeURIComponent(x.id)}`);
    },
    onGoOn: () => {
      for (const m of s.doorstep.matches) s.doorstep.dismissed.add(m.household.id);
      panel.show([]);
      if (s.doorstep.fromSubmit) submit();
    },
  });
  return {pool: [...households, ...mine.map((r) => localHousehold(r, table))], table, panel,
    dismissed: new Set(), matches: [], fromSubmit: false};
}

/** Show the likely matches of the household typed in; returns them. */
function checkDoorstep() {
  const d = s.doorstep;
  if (!d) return [];
  const entry = {head_name: s.draft.inputs.head_name, head_id: s.draft.inputs.head_id,
    group: s.draft.inputs.group, village: s.draft.village};
  d.matches = entry.head_name || entry.head_id
    ? likelyMatches(entry, d.pool, d.table).filter((m) => !d.dismissed.has(m.household.id)) : [];
  d.panel.show(d.matches, s.draft.village);
  return d.matches;
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
  for (const f of form.repeats) data[f.id] = recordsOf(form, f, s.draft.inputs[f.id] || [], data, settings);
  for (let pass = 0; pass < 2; pass += 1) {
    for (const f of form.inputFields) if (f.visible && !form.isVisible(f, data, settings)) data[f.id] = null;
  }
  return data;
}

function update() {
  const {form, settings} = s;
  const data = collect();
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
      wrapper.querySelector('output').textContent = v === null || v === undefined ? '—' : `${v.toLocaleString('zh-CN')} ${f.unit ?? '元'}`;
      continue;
    }
    wrapper.querySelector('.req').hidden = !(visible && form.isRequired(f, result.values, settings));
    if (f.type === 'repeat') s.members[f.id].update(result, data, settings, s.submitted);
    const show = s.submitted || s.touched.has(f.id);
    const messages = [...(show ? result.errors[f.id] || [] : []), ...[].concat(s.serverErrors[f.id] || [])];
    wrapper.querySelector('.error').textContent = messages.join('；');
    wrapper.classList.toggle('has-error', messages.length > 0);
    if (f.type === 'choice' && f.choices.some((c) => c.when)) {
      // Offer only what can be valid for these answers (a choice made earlier
      // that no longer can stays in view, with its error).
      wrapper.querySelectorAll('label.option').forEach((el) => {
        const choice = f.choices.find((c) => c.code === el.dataset.code);
        el.hidden = !form.choiceAllowed(choice, result.values, settings) && s.draft.inputs[f.id] !== choice.code;
      });
    }
    if (f.type === 'multi' && f.ordered) {
      const order = s.draft.inputs[f.id] || [];
      wrapper.querySelectorAll('.order').forEach((el) => {
        const i = order.indexOf(el.dataset.code);
        el.textContent = i < 0 ? '' : (i === 0 ? '（主要）' : `（${i + 1}）`);
      });
    }
  }
  const missing = form.missing(result.values, settings);
  s.missingButton.update(missing);
  const bySection = {};
  for (const id of missing) bySection[form.byId[id].section] = (bySection[form.byId[id].section] || 0) + 1;
  s.jumpBar.update(bySection);
  const flags = form.flagRules.filter((flag) => result.flags[flag.id] && form.flagReady(flag, result.values, settings));
  s.flagsEl.replaceChildren(...(flags.length ? [h('strong', {}, '提示：'), ...flags.map((flag) => h('span', {class: 'badge warn', dataset: {flag: flag.id}}, flag.label))] : []));
}

async function submit() {
  s.submitted = true;
  update();
  const keys = Object.keys(s.result.errors);
  // a member's error (members.0.id_number) counts under its repeat
  const errors = s.form.inFormOrder([...new Set(keys.map((k) => k.split('.')[0]))]);
  if (errors.length) {
    toast(`还有 ${keys.length} 处需要修改`, 'bad');
    const first = errors[0]; // the first in the order of the form
    const memberKey = s.members[first] && !s.result.errors[first] && keys.find((k) => k.startsWith(`${first}.`));
    goTo(memberKey ? s.members[first].wrapperOf(memberKey) : s.wrappers[first]);
    return;
  }
  if (checkDoorstep().length) {
    s.doorstep.fromSubmit = true;
    s.doorstep.panel.scrollIntoView({block: 'center'});
    toast('请先确认是否为已有农户', 'warn');
    return;
  }
  s.statusEl.textContent = '正在保存…';
  const values = {...s.result.values};
  // A household typed in is known by the name typed (it may just have been corrected).
  const draft = {...s.draft, label: isNewHousehold(s.draft) ? values.head_name : s.draft.label || values.head_name};
  await s.saving;
  s.statusEl.textContent = '正在保存（记录位置）…';
  const location = await locate();
  try {
    await saveVisit(draft, values, {campaignId: s.campaign.id, formVersion: s.form.version, location});
  } catch (error) {
    s.statusEl.textContent = `保存失败：${error.message}（草稿仍在）`;
    toast('保存失败，请重试', 'bad');
    return;
  }
  // The transaction is complete: the visit is on disk.
  s.dirty = false;
  toast('已保存', 'ok');
  const {go, scope, updatePendingBadge, requestBackgroundSync} = s;
  close();
  updatePendingBadge();
  requestBackgroundSync();
  syncNow('save');
  go(scope);
}

/** A server error's field as the worker reads it: 家庭成员 第2人 公民身份号码. */
function errorLabel(form, key) {
  const [id, index, sub] = key.split('.');
  const f = form.byId[id];
  if (!f) return key;
  if (index === undefined) return f.label;
  const subLabel = (f.fields || []).find((x) => x.id === sub)?.label || sub;
  return `${f.label} 第${Number(index) + 1}人 ${subLabel}`;
}

export function isDirty() { return Boolean(s); }

export async function leave() {
  await flush();
  close();
}

function close() {
  s?.photoUrls.forEach((url) => URL.revokeObjectURL(url));
  s = null;
}
