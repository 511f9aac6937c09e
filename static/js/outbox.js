// Drafts and the outbox: a visit is a draft while it is being filled, and an
// outbox record from "保存" until the server acknowledges it. Records carry
// their worker (owner): logging out or another worker logging in never
// deletes them.

import * as store from './db.js';

export const PUSH_KEYS = ['uuid', 'campaign_id', 'form_version', 'household_id', 'base_rev', 'supersedes',
  'started_at', 'visited_at', 'data', 'location', 'village'];

/** Local time with its UTC offset, e.g. 2023-10-12T09:30:00+08:00. */
export function isoNow(now = new Date()) {
  const offset = -now.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const pad = (n) => String(Math.floor(Math.abs(n))).padStart(2, '0');
  const local = new Date(now.getTime() + offset * 60000).toISOString().slice(0, 19);
  return `${local}${sign}${pad(offset / 60)}:${pad(offset % 60)}`;
}

export function newUuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export async function deviceId() {
  let id = await store.getMeta('device_id');
  if (!id) {
    id = newUuid();
    await store.setMeta('device_id', id);
  }
  return id;
}

export async function findDraft(owner, householdKey) {
  const found = await store.getAllByIndex('drafts', 'household', [owner, householdKey]);
  return found.sort((a, b) => (b.updated_at || '').localeCompare(a.updated_at || ''))[0] || null;
}

/** ``photos`` without their bytes, which go to the photos store in ``tx`` (and, once
 *  it completes, leave the photo objects: a later save writes them no more). */
function keepBytes(tx, photos = []) {
  const taken = photos.filter((p) => p.bytes);
  for (const p of taken) tx.objectStore('photos').put(p.bytes, p.id);
  tx.done.then(() => { for (const p of taken) delete p.bytes; }, () => {});
  return photos.map(({bytes, ...photo}) => photo);
}

/** Save the draft (every change); resolves when it is on disk. */
export function saveDraft(draft) {
  draft.updated_at = isoNow();
  return store.write(['drafts', 'photos'], (tx) => {
    tx.objectStore('drafts').put({...draft, photos: keepBytes(tx, draft.photos)});
  });
}

export function deleteDraft(uuid) {
  return store.write(['drafts'], (tx) => { tx.objectStore('drafts').delete(uuid); });
}

/**
 * Move a finished visit into the outbox (same uuid: a corrected rejected
 * record replaces itself). Resolves only when the transaction is complete,
 * which is when the screen may say "已保存".
 */
export async function saveVisit(draft, data, {campaignId, formVersion, location = null}) {
  const record = {
    uuid: draft.uuid,
    campaign_id: campaignId,
    form_version: formVersion,
    household_id: draft.household_id ?? null,
    base_rev: draft.base_rev ?? null,
    supersedes: draft.supersedes ?? null,
    started_at: draft.started_at,
    visited_at: isoNow(),
    data,
    location,
    village: draft.village ?? null,
    photos: draft.photos || [], // uploaded after the visit (photos.js)
    owner: draft.owner,
    device_id: await deviceId(),
    label: draft.label || data.head_name || '',
    status: 'queued',
    errors: null,
    attempts: 0,
    saved_at: isoNow(),
    save_id: newUuid(), // tells one save of this uuid from the next
  };
  await store.write(['outbox', 'drafts', 'visits', 'photos'], async (tx) => {
    record.photos = keepBytes(tx, record.photos);
    const outbox = tx.objectStore('outbox');
    // Editing a record that was acknowledged meanwhile: the server keeps the
    // earlier version under that uuid, so this one is stored as a new visit.
    if (draft.from_outbox && !(await outbox.get(record.uuid))) {
      Object.assign(record, asVisitOf(record, (await tx.objectStore('visits').get(record.uuid))?.result));
      record.uuid = newUuid();
    }
    outbox.put(record);
    tx.objectStore('drafts').delete(draft.uuid);
  });
  return record;
}

/** For a record saved again after its first save was stored: a visit to the
 *  household the first save created (a new household is created once). */
export function asVisitOf(record, result) {
  if (record.household_id || !result?.household_id) return {};
  return {household_id: result.household_id, base_rev: result.household_rev ?? null};
}

export const pendingFor = (owner) => store.getAllByIndex('outbox', 'owner', owner);
export const allPending = () => store.getAll('outbox');

/** The push body's view of a record: only the protocol's keys, and how many photos follow. */
export function toPush(record) {
  const body = Object.fromEntries(PUSH_KEYS.map((k) => [k, record[k] ?? null]));
  if (record.photos?.length) body.photos = record.photos.length;
  return body;
}

/** The 导出备份 file: every unsynced visit of every worker on this phone. */
export async function backupFile(appVersion) {
  const records = await allPending();
  const device = await deviceId();
  const byOwner = new Map();
  for (const r of records) {
    if (!byOwner.has(r.owner)) byOwner.set(r.owner, []);
    byOwner.get(r.owner).push(r);
  }
  const batches = [...byOwner.entries()].map(([worker, items]) => ({
    worker,
    device_id: device,
    batch_id: newUuid(),
    // Photos stay on the phone (their bytes are not in the file): the visits go without them.
    records: items.map((r) => ({...toPush({...r, photos: null}), status: r.status, errors: r.errors, saved_at: r.saved_at})),
  }));
  return {format: 'fieldapp-backup', version: 1, exported_at: isoNow(), device_id: device,
    app_version: appVersion, batches};
}
