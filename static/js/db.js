// IndexedDB: the phone's only store of record.
//
// Stores (plural names): households (from pull), drafts (a visit being
// filled, saved on every change), outbox (visits not yet acknowledged by the
// server), visits (acknowledged visits and their review status), meta
// (key-value: device_id, auth, cursor, last_sync, form, ...), photos (入户照片's
// bytes by photo id; the records above only describe their photos).
// Upgrades run step by step on the old version, so a phone on any earlier
// version keeps its outbox and drafts.

import {openDB} from '../vendor/idb-8.0.0/idb.js';

export const DB_NAME = 'fieldapp';
export const DB_VERSION = 3;
const STRICT = {durability: 'strict'};

function upgrade(db, oldVersion, newVersion, tx) {
  if (oldVersion < 1) {
    db.createObjectStore('households', {keyPath: 'id'});
    db.createObjectStore('drafts', {keyPath: 'uuid'});
    const outbox = db.createObjectStore('outbox', {keyPath: 'uuid'});
    outbox.createIndex('owner', 'owner');
    db.createObjectStore('meta');
  }
  if (oldVersion < 2) {
    // v2: drafts found by household (one open draft per household and worker),
    // and acknowledged visits kept for returned-visit corrections.
    tx.objectStore('drafts').createIndex('household', ['owner', 'household_key']);
    const visits = db.createObjectStore('visits', {keyPath: 'uuid'});
    visits.createIndex('owner', 'owner');
  }
  if (oldVersion < 3) {
    // v3: the photos' bytes move out of the drafts, outbox and visits records.
    const photos = db.createObjectStore('photos');
    for (const name of ['drafts', 'outbox', 'visits']) {
      tx.objectStore(name).openCursor().then(async function move(cursor) {
        if (!cursor) return;
        const record = cursor.value;
        if ((record.photos || []).some((p) => p.bytes)) {
          record.photos = record.photos.map(({bytes, ...photo}) => {
            if (bytes) photos.put(bytes, photo.id);
            return photo;
          });
          cursor.update(record);
        }
        move(await cursor.continue());
      });
    }
  }
}

let dbPromise = null;

/** The one open connection (reopened after WebKit drops it or a version change). */
export function db() {
  if (!dbPromise) {
    dbPromise = openDB(DB_NAME, DB_VERSION, {
      upgrade,
      blocking() { close(); },
      terminated() { dbPromise = null; },
    }).catch((error) => { dbPromise = null; throw error; });
  }
  return dbPromise;
}

export function close() {
  if (dbPromise) dbPromise.then((d) => d.close()).catch(() => {});
  dbPromise = null;
}

/** Run ``fn`` once more on a fresh connection if the connection was lost. */
async function retrying(fn) {
  try {
    return await fn(await db());
  } catch (error) {
    if (error && (error.name === 'InvalidStateError' || /connection|closing/i.test(String(error.message)))) {
      dbPromise = null;
      return fn(await db());
    }
    throw error;
  }
}

export const get = (store, key) => retrying((d) => d.get(store, key));
export const getAll = (store) => retrying((d) => d.getAll(store));
export const count = (store) => retrying((d) => d.count(store));
export const getAllByIndex = (store, index, query) => retrying((d) => d.getAllFromIndex(store, index, query));

export async function getMeta(key, fallback = null) {
  const value = await get('meta', key);
  return value === undefined ? fallback : value;
}

export const setMeta = (key, value) => retrying(async (d) => {
  const tx = d.transaction('meta', 'readwrite', STRICT);
  tx.store.put(value, key);
  await tx.done;
});

/**
 * Run ``fn(tx)`` in one readwrite transaction with durability 'strict'; the
 * promise resolves only on the transaction's ``complete`` (data on disk).
 */
export const write = (stores, fn) => retrying(async (d) => {
  const tx = d.transaction(stores, 'readwrite', STRICT);
  let result;
  try {
    result = await fn(tx);
  } catch (error) {
    try { tx.abort(); } catch (ignored) { /* already finished */ }
    throw error;
  }
  await tx.done;
  return result;
});

/** Can this browser store data here? (a probe write, for the banners) */
export async function probe() {
  await setMeta('probe', Date.now());
  return (await getMeta('probe')) !== null;
}
