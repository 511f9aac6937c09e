// Sync: push the outbox in batches, then pull households until ``more`` is
// false. One sync at a time (a promise in this tab, a Web Lock across tabs).
// A record leaves the outbox only when the server's result for its uuid
// says the visit is stored (accepted, conflict, duplicate_suspected,
// already_received); a rejected one stays, marked with its errors.

import {ApiError, request} from './api.js';
import {backoffDelay} from './backoff.js';
import * as store from './db.js';
import {asVisitOf, deviceId, newUuid, pendingFor, toPush} from './outbox.js';
import {uploadPhotos} from './photos.js';
import {searchKeys} from './search.js';

export const BATCH_SIZE = 50;
export const PULL_LIMIT = 500;
const STORED = new Set(['accepted', 'conflict', 'duplicate_suspected', 'already_received']);
// 409s for a batch id the server holds with other records (or another user's):
// the records go again under a new one, which their uuids keep idempotent.
const BATCH_ID_TAKEN = new Set(['batch_conflict', 'batch_id_conflict']);
const BATCH_ID_TRIES = 3;

const listeners = new Set();
let running = null;
let again = null;
let timer = null;
let failures = 0;

/** ``fn(event)`` for {type: 'start'|'done'|'error'|'auth'|'progress', ...}. */
export function onSync(fn) { listeners.add(fn); return () => listeners.delete(fn); }
const emit = (event) => listeners.forEach((fn) => { try { fn(event); } catch (e) { console.error(e); } });

export const isRunning = () => running !== null;

/** Start a sync unless one is running (then return that one, and run once
 *  more after it: the running one read the outbox before this call, so a visit
 *  saved meanwhile would otherwise wait for the next trigger). */
export function syncNow(reason = 'manual') {
  if (running) {
    again = again || reason;
    return running;
  }
  clearTimeout(timer);
  timer = null;
  running = withLock(() => runSync(reason)).finally(() => {
    running = null;
    const next = again;
    again = null;
    if (next) syncNow(next);
  });
  return running;
}

async function withLock(fn) {
  if (navigator.locks && navigator.locks.request) {
    return navigator.locks.request('fieldapp-sync', fn);
  }
  return fn();
}

async function runSync(reason) {
  const auth = await store.getMeta('auth');
  if (!auth || !auth.token) return {skipped: 'not_logged_in'};
  emit({type: 'start', reason});
  try {
    const pushed = await pushOutbox(auth);
    const pulled = await pull(auth);
    // The campaign (dates, monitoring line) may have changed on the server.
    await store.setMeta('form', await request('GET', '/form', {token: auth.token}));
    if (!(await store.getMeta('pinyin'))) await refreshPinyin(auth.token);
    // Photos go after their visits are stored (and after the pull: a cut costs no pull).
    await uploadPhotos(auth.token, auth.user.username, (p) => emit({type: 'photos', ...p}));
    failures = 0;
    const at = new Date().toISOString();
    await store.setMeta('last_sync', {at, pushed, pulled});
    await store.setMeta('last_sync_error', null);
    emit({type: 'done', pushed, pulled, at});
    return {pushed, pulled};
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      // The token is gone (expired, revoked): ask for the password again.
      // The outbox is not touched.
      await store.setMeta('auth', {...auth, token: null});
      emit({type: 'auth', error});
    } else {
      failures += 1;
      const delay = backoffDelay(failures);
      await store.setMeta('last_sync_error', {at: new Date().toISOString(), message: error.message, retry_in_ms: delay});
      if (error instanceof ApiError && error.retryable) schedule(delay);
      emit({type: 'error', error, retryInMs: delay});
    }
    return {error};
  }
}

/** Download the name readings (searching and checking households typed on the phone). */
export async function refreshPinyin(token) {
  await store.setMeta('pinyin', await request('GET', '/pinyin', {token}));
}

/** Retry later (backoff timer). */
export function schedule(delayMs) {
  clearTimeout(timer);
  timer = setTimeout(() => { timer = null; syncNow('retry'); }, delayMs);
}

async function pushOutbox(auth) {
  const owner = auth.user.username;
  const queued = (await pendingFor(owner)).filter((r) => r.status !== 'rejected')
    .sort((a, b) => (a.saved_at || '').localeCompare(b.saved_at || ''));
  const summary = {sent: 0, stored: 0, rejected: 0};
  const device = await deviceId();
  for (let i = 0; i < queued.length; i += BATCH_SIZE) {
    const batch = queued.slice(i, i + BATCH_SIZE);
    const response = await pushBatch(batch, device, auth.token);
    await applyResults(batch, response, owner);
    summary.sent += batch.length;
    for (const r of response.results || []) {
      if (STORED.has(r.status)) summary.stored += 1;
      else if (r.status === 'rejected') summary.rejected += 1;
    }
    if (response.received_at) {
      await store.setMeta('clock_offset_ms', Date.parse(response.received_at) - Date.now());
    }
    emit({type: 'progress', ...summary, total: queued.length});
  }
  return summary;
}

/** One push of ``batch``, under a new batch id for as long as the server says the id is taken. */
async function pushBatch(batch, device, token) {
  const records = batch.map(toPush);
  for (let attempt = 1; ; attempt += 1) {
    const body = {batch_id: newUuid(), device_id: device, app_version: appVersion(), records};
    try {
      return await request('POST', '/sync/push', {body, token});
    } catch (error) {
      const taken = error instanceof ApiError && error.status === 409 && BATCH_ID_TAKEN.has(error.code);
      if (!taken || attempt >= BATCH_ID_TRIES) throw error;
    }
  }
}

export async function applyResults(batch, response, owner) {
  const results = new Map((response.results || []).map((r) => [r.uuid, r]));
  await store.write(['outbox', 'visits', 'households'], async (tx) => {
    const outbox = tx.objectStore('outbox');
    for (const record of batch) {
      const result = results.get(record.uuid);
      if (!result) continue; // no answer for it: it stays and goes again
      const current = await outbox.get(record.uuid);
      const editedMeanwhile = current && current.save_id !== record.save_id;
      if (STORED.has(result.status)) {
        outbox.delete(record.uuid);
        if (editedMeanwhile) {
          // The worker re-saved it while this batch was on the way: the server
          // has the earlier version under this uuid, so the edit becomes a new
          // visit (of the household the first one created, if it created one).
          outbox.put({...current, ...asVisitOf(current, result), uuid: newUuid()});
        }
        tx.objectStore('visits').put({
          uuid: record.uuid, owner, household_id: result.household_id ?? record.household_id,
          label: record.label, data: record.data, supersedes: record.supersedes, photos: record.photos || [],
          sync_status: result.status, review_status: 'pending', review_comment: null,
          synced_at: new Date().toISOString(), result,
        });
        if (result.household_id) {
          const households = tx.objectStore('households');
          const h = await households.get(result.household_id);
          if (h) {
            h.visited = true;
            if (result.household_rev) h.rev = result.household_rev;
            households.put(h);
          }
        }
      } else if (result.status === 'rejected' && !editedMeanwhile) {
        record.status = 'rejected';
        record.errors = result.errors || {};
        record.attempts = (record.attempts || 0) + 1;
        outbox.put(record);
      }
    }
  });
}

/** Pull every page since the stored cursor; each page and its cursor in one transaction. */
export async function pull(auth) {
  let cursor = await store.getMeta('cursor', '');
  let total = 0;
  const owner = auth.user.username;
  for (;;) {
    const query = new URLSearchParams({limit: String(PULL_LIMIT)});
    if (cursor) query.set('since', cursor);
    const page = await request('GET', `/sync/pull?${query}`, {token: auth.token});
    await storePage(page, owner);
    total += (page.households || []).length;
    cursor = page.cursor;
    emit({type: 'progress', pulled: total});
    if (!page.more) break;
  }
  return {households: total};
}

export async function storePage(page, owner) {
  await store.write(['households', 'visits', 'meta'], async (tx) => {
    const households = tx.objectStore('households');
    for (const h of page.households || []) {
      h.search = searchKeys(h);
      households.put(h);
    }
    for (const id of page.removed || []) households.delete(id);
    const visits = tx.objectStore('visits');
    for (const v of page.visits || []) {
      const known = await visits.get(v.uuid);
      // A returned visit comes with its answers: the correction opens filled in
      // on any phone (another one, or this one after a reinstall).
      const data = v.data || known?.data || null;
      visits.put({...(known || {uuid: v.uuid, owner}), data, label: known?.label || data?.head_name || null,
        household_id: v.household_id, review_status: v.status, review_comment: v.review_comment ?? null,
        return_kind: v.return_kind ?? null});
    }
    // The checkpoint moves in the same transaction as the data it covers.
    tx.objectStore('meta').put(page.cursor, 'cursor');
  });
}

export function appVersion() {
  return document.getElementById('app')?.dataset.version || 'unknown';
}
