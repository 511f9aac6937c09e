// The worker's app: boot, service worker and its update flow, router, sync triggers.

import * as store from './db.js';
import {sweepPhotos} from './photos.js';
import {onSync, syncNow} from './sync.js';
import {removeBanner, showCapabilityBanners, showUpdateBanner} from './ui/banners.js';
import {clear, h, toast} from './ui/dom.js';
import * as households from './ui/households.js';
import * as login from './ui/login.js';
import * as returned from './ui/returned.js';
import * as syncScreen from './ui/sync-screen.js';
import * as visitForm from './ui/visit-form.js';

const root = document.getElementById('app');
const SCOPE = root.dataset.scope || '/app/';
const SCREENS = {households, login, visit: visitForm, sync: syncScreen, returned};

let current = null; // {name, module}
let updateRequested = false;

function screenFromPath(pathname) {
  const rest = pathname.startsWith(SCOPE) ? pathname.slice(SCOPE.length) : '';
  const name = rest.split('/')[0] || 'households';
  return SCREENS[name] ? name : 'households';
}

function go(url, {replace = false} = {}) {
  const target = new URL(url, location.href);
  if (replace) history.replaceState({}, '', target);
  else history.pushState({}, '', target);
  return render();
}

async function render() {
  const name = screenFromPath(location.pathname);
  const auth = await store.getMeta('auth');
  if ((!auth || !auth.token) && name !== 'login') {
    return go(`${SCOPE}login`, {replace: true});
  }
  if (current?.module.leave) await current.module.leave();
  const container = clear(document.getElementById('screen'));
  root.dataset.screen = name;
  current = {name, module: SCREENS[name]};
  const params = new URLSearchParams(location.search);
  try {
    await current.module.show(container, {params, auth, go, scope: SCOPE, updatePendingBadge, requestBackgroundSync});
  } catch (error) {
    console.error(error);
    container.append(h('p', {class: 'notice bad'}, `出错了：${error.message}`));
  }
  updatePendingBadge();
}

async function updatePendingBadge() {
  const badge = document.getElementById('pending-badge');
  if (!badge) return;
  const pending = await store.count('outbox');
  badge.textContent = String(pending);
  badge.hidden = pending === 0;
}

function updateNetStatus() {
  const el = document.getElementById('net-status');
  if (el) el.textContent = navigator.onLine ? '' : '离线';
  root.classList.toggle('is-offline', !navigator.onLine);
}

/** Is the worker in the middle of something that a reload would interrupt? */
function busy() {
  return Boolean(current?.module.isDirty && current.module.isDirty());
}

async function registerServiceWorker() {
  if (!('serviceWorker' in navigator)) return false;
  const registration = await navigator.serviceWorker.register(root.dataset.sw, {scope: SCOPE, updateViaCache: 'none'});
  const offer = (worker) => {
    showUpdateBanner(async () => {
      // Never reload over a form being filled: its draft is written first
      // (and restored after the reload); the outbox is never touched.
      if (current?.module.flush) await current.module.flush();
      updateRequested = true;
      worker.postMessage({type: 'SKIP_WAITING'});
    });
  };
  if (registration.waiting && navigator.serviceWorker.controller) offer(registration.waiting);
  registration.addEventListener('updatefound', () => {
    const worker = registration.installing;
    worker?.addEventListener('statechange', () => {
      if (worker.state === 'installed' && navigator.serviceWorker.controller) offer(worker);
    });
  });
  // The first activation (claim) is no update: only a replaced controller is.
  let hadController = Boolean(navigator.serviceWorker.controller);
  navigator.serviceWorker.addEventListener('controllerchange', async () => {
    removeBanner('banner-update');
    const wasUpdate = hadController;
    hadController = true;
    if (!wasUpdate) return;
    if (updateRequested || !busy()) {
      if (current?.module.flush) await current.module.flush();
      location.reload();
    }
  });
  navigator.serviceWorker.addEventListener('message', (event) => {
    if (event.data?.type === 'SYNC_REQUESTED') syncNow('background-sync');
  });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') registration.update().catch(() => {});
  });
  return true;
}

/** Background Sync where the browser has it (Chrome); the other triggers cover the rest. */
async function requestBackgroundSync() {
  try {
    const registration = await navigator.serviceWorker?.ready;
    if (registration?.sync) await registration.sync.register('fieldapp-outbox');
  } catch (error) {
    // Not available (Safari, Firefox, WebViews): sync on open/online/button instead.
  }
}

async function boot() {
  let swOk = false;
  let idbOk = false;
  try { idbOk = 'indexedDB' in window && await store.probe(); } catch (error) { idbOk = false; }
  try { swOk = await registerServiceWorker(); } catch (error) { console.error(error); swOk = false; }
  showCapabilityBanners({swOk, idbOk});
  updateNetStatus();
  window.addEventListener('online', () => { updateNetStatus(); syncNow('online'); });
  window.addEventListener('offline', updateNetStatus);
  window.addEventListener('popstate', render);
  document.addEventListener('click', (event) => {
    const link = event.target.closest?.('a[data-link]');
    if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey) return;
    event.preventDefault();
    go(link.href);
  });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') syncNow('visible');
    else if (current?.module.flush) current.module.flush();
  });
  window.addEventListener('pagehide', () => { if (current?.module.flush) current.module.flush(); });
  onSync((event) => {
    if (event.type === 'done') { updatePendingBadge(); current?.module.refresh?.(); }
    if (event.type === 'error') { updatePendingBadge(); current?.module.refresh?.(); }
    if (event.type === 'auth') {
      toast('登录已过期，请重新输入密码（未同步的记录仍保存在手机上）', 'warn', 6000);
      go(`${SCOPE}login`, {replace: true});
    }
  });
  await render();
  root.dataset.ready = 'true';
  syncNow('open');
  sweepPhotos().catch((error) => console.error(error));
}

window.fieldapp = {go, syncNow, updatePendingBadge};
boot();
