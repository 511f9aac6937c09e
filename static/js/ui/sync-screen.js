// Sync: what is pending (by household), last successful sync, per-record
// errors, 同步, 导出备份, storage (persisted? how much used), logout.

import * as store from '../db.js';
import {allPending, backupFile} from '../outbox.js';
import {failedPhotos, pendingPhotos} from '../photos.js';
import {appVersion, isRunning, onSync, syncNow} from '../sync.js';
import {logOut, requestPersistence} from './login.js';
import {append, clear, formatBytes, formatTime, h, toast} from './dom.js';

let view = null;

// Photo upload progress, live (the rest of the screen is redrawn after a sync).
onSync((event) => {
  const el = document.getElementById('photo-progress');
  if (!el || event.type !== 'photos') return;
  const share = event.size ? `，本张 ${Math.round((100 * event.sent) / event.size)}%` : '';
  el.textContent = `照片上传中 ${event.done}/${event.total}${share}`;
});

export async function show(container, ctx) {
  view = {container, ctx};
  await refresh();
}

export async function refresh() {
  if (!view) return;
  const {container, ctx: {auth, scope, go}} = view;
  const owner = auth.user.username;
  const [pending, last, lastError, persisted, estimate, formDoc, photos, failed] = await Promise.all([
    allPending(), store.getMeta('last_sync'), store.getMeta('last_sync_error'), store.getMeta('persisted'),
    navigator.storage?.estimate ? navigator.storage.estimate().catch(() => null) : null, store.getMeta('form'), pendingPhotos(owner), failedPhotos(owner)]);
  const labels = Object.fromEntries((formDoc?.form?.fields || []).map((f) => [f.id, f.label]));
  const mine = pending.filter((r) => r.owner === owner);
  const others = pending.length - mine.length;
  const rejected = mine.filter((r) => r.status === 'rejected');
  const syncButton = h('button', {type: 'button', class: 'primary big wide', id: 'sync-button', disabled: isRunning(),
    onclick: async () => {
      syncButton.disabled = true;
      syncButton.textContent = '正在同步…';
      const result = await syncNow('button');
      if (result?.error) toast(`同步失败：${result.error.message}`, 'bad', 5000);
      else if (result?.pushed) toast(`同步完成：上传 ${result.pushed.stored} 条`, 'ok');
      await refresh();
    }}, isRunning() ? '正在同步…' : '同步');
  const exportButton = h('button', {type: 'button', class: 'wide', id: 'export-button', onclick: exportBackup}, '导出备份');
  // append() of dom.js: it leaves out the nulls (Element.append would print "null").
  append(clear(container), [
    h('h1', {}, '同步'),
    h('div', {class: 'card'},
      h('p', {class: 'big-number'}, h('span', {id: 'pending-count'}, String(mine.length)), ' 条待同步'),
      mine.length ? h('ul', {class: 'plain pending-list', id: 'pending-list'}, mine.map((r) => h('li', {dataset: {uuid: r.uuid}},
        h('a', {href: `${scope}visit?edit=${encodeURIComponent(r.uuid)}`, 'data-link': true}, r.label || r.data?.head_name || '（未填姓名）'),
        ' ', h('span', {class: `badge ${r.status === 'rejected' ? 'bad' : 'warn'}`}, r.status === 'rejected' ? '被拒收' : '待发送'),
        !r.household_id && !r.supersedes ? h('span', {class: 'muted small'}, ' 新增农户') : null))) : null,
      others ? h('p', {class: 'muted'}, `另有其他网格员的 ${others} 条记录待他们登录后同步（不会删除）`) : null,
      h('p', {id: 'photo-progress', class: photos.length ? 'warn' : 'muted'},
        photos.length ? `${photos.length} 张照片待上传` : '照片已全部上传'),
      failed.length ? h('p', {class: 'error', id: 'photo-failed'},
        `${failed.length} 张照片服务器不接收：${failed[0].error}`) : null,
      h('p', {id: 'last-sync'}, `上次成功同步：${formatTime(last?.at)}`),
      lastError ? h('p', {class: 'error', id: 'last-error'}, `上次同步失败：${lastError.message}（${formatTime(lastError.at)}）`) : null,
      syncButton),
    rejected.length ? h('div', {class: 'card', id: 'rejected-list'}, h('h2', {}, `被服务器拒收（${rejected.length}）`),
      rejected.map((r) => h('div', {class: 'rejected-item', dataset: {uuid: r.uuid}},
        h('strong', {}, r.label || r.data?.head_name || r.uuid),
        h('ul', {class: 'errors'}, Object.entries(r.errors || {}).map(([field, messages]) => h('li', {class: 'error'}, `${labels[field] || field}：${[].concat(messages).join('；')}`))),
        h('a', {class: 'button', href: `${scope}visit?edit=${encodeURIComponent(r.uuid)}`, 'data-link': true}, '修改')))) : null,
    h('div', {class: 'card'},
      h('h2', {}, '备份'),
      h('p', {class: 'muted', id: 'backup-hint'}, '手机无法连接服务器时，导出所有未同步记录，把文件交给管理员导入。'),
      exportButton),
    h('div', {class: 'card', id: 'storage-info'},
      h('h2', {}, '本机存储'),
      h('p', {id: 'persist-status'}, persisted === true ? '已获得持久存储：浏览器不会自动清除本应用的数据'
        : persisted === false ? '浏览器未授予持久存储：请把本应用添加到主屏幕，并尽快同步' : '持久存储：未知'),
      h('p', {}, `已用 ${formatBytes(estimate?.usage)} / 可用 ${formatBytes(estimate?.quota)}`),
      persisted !== true ? h('button', {type: 'button', onclick: async () => { await requestPersistence(); refresh(); }}, '申请持久存储') : null),
    h('div', {class: 'card'},
      h('p', {class: 'muted'}, `登录：${auth.user.display_name || auth.user.username} · 版本 ${appVersion()}`),
      h('button', {type: 'button', class: 'wide', id: 'logout-button', onclick: () => logOut(go, scope)}, '退出登录'))]);
}

async function exportBackup() {
  const file = await backupFile(appVersion());
  const count = file.batches.reduce((n, b) => n + b.records.length, 0);
  const blob = new Blob([JSON.stringify(file, null, 1)], {type: 'application/json'});
  const a = h('a', {href: URL.createObjectURL(blob), download: `fieldapp-backup-${file.exported_at.slice(0, 19).replace(/[:T]/g, '')}.json`});
  document.body.append(a);
  a.click();
  a.remove();
  toast(`已导出 ${count} 条未同步记录`, 'ok');
}

export function leave() { view = null; }
