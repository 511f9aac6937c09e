// Photos of a visit (入户照片, docs/sync-protocol.md#photos): compressed on the phone,
// kept in IndexedDB with the visit (described in its draft, then its outbox record,
// then its visits record; the bytes in the photos store, by photo id), uploaded after
// the visit was pushed, chunk by chunk. Each upload first asks the server where it
// stands, so a cut resumes there, never from zero.

import {ApiError, request} from './api.js';
import * as store from './db.js';
import {newUuid} from './outbox.js';

export const MAX_SIDE = 1600;
export const TARGET_BYTES = 280 * 1024;
export const CHUNK_BYTES = 64 * 1024;
const OCTETS = 'application/offset+octet-stream';
const RESTART = new Set(['checksum_mismatch', 'unsupported_photo_type']);

const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');

/** A camera file as a JPEG (longest side MAX_SIDE px), quality lowered until it is
 *  about TARGET_BYTES: {id, bytes (ArrayBuffer), sha256, size, type, status}. */
export async function compress(file) {
  const image = await createImageBitmap(file);
  const scale = Math.min(1, MAX_SIDE / Math.max(image.width, image.height));
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(image.width * scale);
  canvas.height = Math.round(image.height * scale);
  canvas.getContext('2d').drawImage(image, 0, 0, canvas.width, canvas.height);
  image.close?.();
  let blob;
  for (let quality = 0.85; ; quality -= 0.1) {
    blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', quality));
    if (blob.size <= TARGET_BYTES || quality < 0.4) break;
  }
  const bytes = await blob.arrayBuffer();
  return {id: newUuid(), bytes, sha256: hex(await crypto.subtle.digest('SHA-256', bytes)), size: bytes.byteLength,
    type: 'image/jpeg', width: canvas.width, height: canvas.height, status: 'queued', photo_id: null};
}

/** A URL of the photo's picture (its thumbnail), or null if its bytes are gone. */
export async function objectUrl(photo) {
  const bytes = photo.bytes || await store.get('photos', photo.id);
  return bytes ? URL.createObjectURL(new Blob([bytes], {type: photo.type})) : null;
}

/** Drop the bytes no record describes (a photo removed from a draft, a draft given
 *  up), reading the records in the same transaction as a save would write them. */
export async function sweepPhotos() {
  if (!(await store.count('photos'))) return 0;
  return store.write(['photos', 'drafts', 'outbox', 'visits'], async (tx) => {
    const kept = new Set();
    for (const name of ['drafts', 'outbox', 'visits']) {
      for (const record of await tx.objectStore(name).getAll()) for (const p of record.photos || []) kept.add(p.id);
    }
    const stale = (await tx.objectStore('photos').getAllKeys()).filter((id) => !kept.has(id));
    for (const id of stale) tx.objectStore('photos').delete(id);
    return stale.length;
  });
}

/** The worker's photos not yet stored at the server: [{visit, photo}], oldest visit first. */
export async function pendingPhotos(owner) {
  const visits = await store.getAllByIndex('visits', 'owner', owner);
  return visits.sort((a, b) => (a.synced_at || '').localeCompare(b.synced_at || ''))
    .flatMap((visit) => (visit.photos || []).filter((p) => p.status !== 'done' && p.status !== 'failed')
      .map((photo) => ({visit, photo})));
}

export const failedPhotos = async (owner) => (await store.getAllByIndex('visits', 'owner', owner))
  .flatMap((visit) => (visit.photos || []).filter((p) => p.status === 'failed'));

async function update(visitUuid, id, changes) {
  await store.write(['visits', 'photos'], async (tx) => {
    const visits = tx.objectStore('visits');
    if (changes.status === 'done') tx.objectStore('photos').delete(id); // the bytes leave the phone
    const visit = await visits.get(visitUuid);
    if (!visit) return;
    visit.photos = (visit.photos || []).map((p) => (p.id === id ? {...p, ...changes} : p));
    visits.put(visit);
  });
}

/** Upload every pending photo of ``owner``; ``progress({done, total, sent, size})``. */
export async function uploadPhotos(token, owner, progress = () => {}) {
  const pending = await pendingPhotos(owner);
  let done = 0;
  for (const {visit, photo} of pending) {
    try {
      await uploadOne(visit.uuid, photo, token, (sent) => progress({done, total: pending.length, sent, size: photo.size}));
    } catch (error) {
      // The server will never take it (not this worker's visit, over the limit): kept on
      // the phone with the reason; a cut or a busy server is tried again later.
      if (!(error instanceof ApiError) || error.retryable || error.status === 401) throw error;
      await update(visit.uuid, photo.id, {status: 'failed', error: error.message});
    }
    done += 1;
    progress({done, total: pending.length, sent: 0, size: 0});
  }
  return {photos: done};
}

async function uploadOne(visitUuid, photo, token, progress) {
  const bytes = await store.get('photos', photo.id);
  if (!bytes) return update(visitUuid, photo.id, {status: 'failed', error: '手机上找不到这张照片的数据'});
  let state;
  if (photo.photo_id) {
    state = await request('GET', `/photos/${photo.photo_id}`, {token});
  } else {
    state = await request('POST', `/visits/${visitUuid}/photos`,
      {token, body: {length: photo.size, sha256: photo.sha256, content_type: photo.type}});
    await update(visitUuid, photo.id, {photo_id: state.id});
  }
  let restarts = 0;
  while (!state.complete) {
    const offset = state.offset;
    progress(offset);
    try {
      state = await request('PATCH', `/photos/${state.id}`, {token, raw: bytes.slice(offset, offset + CHUNK_BYTES),
        headers: {'Content-Type': OCTETS, 'Upload-Offset': String(offset)}});
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (error.code === 'offset_mismatch') {
        state = {...state, offset: error.details.offset, complete: Boolean(error.details.complete)};
      } else if (RESTART.has(error.code) && restarts++ < 1) {
        state = {...state, offset: 0};
      } else {
        throw error;
      }
    }
  }
  await update(visitUuid, photo.id, {status: 'done'}); // stored and checked at the server
}
