// Login: online once; the token then lives on the phone. Logging in as
// another worker clears only the downloaded households, never the outbox.
// One login: a worker who logged in on the web pages (/login) gets the token
// from that session (docs/sync-protocol.md, "Authentication"), unless this
// app's token was taken away (expired, revoked): then the password is asked.

import {ApiError, request} from '../api.js';
import * as store from '../db.js';
import {deviceId} from '../outbox.js';
import {refreshPinyin, syncNow} from '../sync.js';
import {h, toast} from './dom.js';

export async function show(container, {auth, go, scope}) {
  const error = h('p', {class: 'error', role: 'alert', id: 'login-error'});
  const username = h('input', {type: 'text', name: 'username', id: 'login-username', autocomplete: 'username',
    autocapitalize: 'off', required: true, value: auth?.user?.username || ''});
  const password = h('input', {type: 'password', name: 'password', id: 'login-password',
    autocomplete: 'current-password', required: true});
  const button = h('button', {type: 'submit', class: 'primary wide big'}, '登录');
  const form = h('form', {class: 'card', novalidate: true},
    h('h1', {}, '网格员登录'),
    auth?.user && !auth.token && !auth.logged_out ? h('p', {class: 'notice warn'}, '登录已过期或已退出，请重新输入密码。未同步的记录仍保存在手机上。') : null,
    h('div', {class: 'field'}, h('label', {for: 'login-username'}, '用户名'), username),
    h('div', {class: 'field'}, h('label', {for: 'login-password'}, '密码'), password),
    error, button,
    h('p', {class: 'muted small'}, '首次登录需要网络；登录后下载本网格的农户，之后可离线排查。'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    if (!username.value.trim() || !password.value) { error.textContent = '请填写用户名和密码'; return; }
    button.disabled = true;
    button.textContent = '正在登录…';
    try {
      await logIn(username.value.trim(), password.value);
      go(scope);
    } catch (e) {
      error.textContent = e instanceof ApiError && e.offline ? '无法连接服务器：首次登录需要网络' : e.message;
    } finally {
      button.disabled = false;
      button.textContent = '登录';
    }
  });
  container.append(form);
  (username.value ? password : username).focus();
  if (!auth?.user || auth.logged_out) {
    const status = h('p', {class: 'muted', id: 'web-login-status'}, '正在检查网页登录…');
    form.prepend(status);
    fromWebLogin().then((done) => {
      status.remove();
      if (done) go(scope);
    });
  }
}

async function device() {
  return {device_id: await deviceId(), device_name: navigator.userAgent.slice(0, 100)};
}

export async function logIn(username, password) {
  await loggedIn(await request('POST', '/auth/token', {auth: false, body: {username, password, ...(await device())}}));
}

/** The token of the worker logged in on the web pages, or false (no web login, offline, not a worker). */
async function fromWebLogin() {
  if (!navigator.onLine) return false;
  try {
    const session = await request('GET', '/auth/session', {auth: false, cookies: true});
    if (session.user.role !== 'worker') return false;
    await loggedIn(await request('POST', '/auth/session-token', {auth: false, cookies: true,
      headers: {'X-CSRFToken': session.csrf_token}, body: await device()}));
    return true;
  } catch (e) {
    return false; // the password form stays
  }
}

async function loggedIn(result) {
  const previous = await store.getMeta('auth');
  if (previous?.user && previous.user.username !== result.user.username) {
    // Another worker: their households are not ours; their unsynced visits
    // stay in the outbox under their name until they log in again.
    await store.write(['households', 'meta'], (tx) => {
      tx.objectStore('households').clear();
      tx.objectStore('meta').delete('cursor');
    });
  }
  await store.setMeta('auth', {token: result.token, expires_at: result.expires_at, user: result.user});
  await requestPersistence();
  try {
    await store.setMeta('form', await request('GET', '/form', {token: result.token}));
    await refreshPinyin(result.token);
  } catch (e) {
    toast(`未能下载排查表：${e.message}`, 'warn', 5000);
  }
  syncNow('login');
}

/** Logout revokes the token and ends the web login too; the outbox and drafts stay on the phone. */
export async function logOut(go, scope) {
  const auth = await store.getMeta('auth');
  try {
    await request('POST', '/auth/revoke', {token: auth?.token});
  } catch (error) {
    // Offline or already revoked: forgetting the token locally is enough.
  }
  await store.setMeta('auth', {...auth, token: null, logged_out: true});
  try {
    const session = await request('GET', '/auth/session', {auth: false, cookies: true});
    const body = new URLSearchParams({csrf_token: session.csrf_token});
    await fetch(document.getElementById('app').dataset.logout, {method: 'POST', body, credentials: 'same-origin'});
  } catch (error) {
    // No web login (or offline): nothing more to end.
  }
  go(`${scope}login`);
}

/** Ask the browser not to evict our data; remember the answer for the sync screen. */
export async function requestPersistence() {
  let persisted = null;
  try {
    if (navigator.storage?.persist) persisted = await navigator.storage.persist();
  } catch (e) {
    persisted = null;
  }
  await store.setMeta('persisted', persisted);
  return persisted;
}
