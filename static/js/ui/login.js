// Login: online once; the token then lives on the phone. Logging in as
// another worker clears only the downloaded households, never the outbox.

import {ApiError, request} from '../api.js';
import * as store from '../db.js';
import {deviceId} from '../outbox.js';
import {syncNow} from '../sync.js';
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
    auth?.user && !auth.token ? h('p', {class: 'notice warn'}, '登录已过期或已退出，请重新输入密码。未同步的记录仍保存在手机上。') : null,
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
}

export async function logIn(username, password) {
  const device = await deviceId();
  const result = await request('POST', '/auth/token', {auth: false, body: {
    username, password, device_id: device, device_name: navigator.userAgent.slice(0, 100)}});
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
  } catch (e) {
    toast(`未能下载排查表：${e.message}`, 'warn', 5000);
  }
  syncNow('login');
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
