// Capability banners: WeChat / no service worker / no IndexedDB, the iPhone
// Home Screen prompt, and the "new version" prompt.

import {h} from './dom.js';

function banner(id, kind, ...content) {
  const host = document.getElementById('banners');
  if (!host) return null;
  document.getElementById(id)?.remove();
  const el = h('div', {id, class: `notice ${kind}`, role: 'alert'}, ...content);
  host.append(el);
  return el;
}

export function removeBanner(id) { document.getElementById(id)?.remove(); }

export function isWeChat(ua = navigator.userAgent) { return /MicroMessenger/i.test(ua); }

export function isIos(ua = navigator.userAgent) {
  return /iPhone|iPad|iPod/.test(ua) || (navigator.platform === 'MacIntel' && navigator.maxTouchPoints > 1);
}

export function isStandalone() {
  return window.matchMedia?.('(display-mode: standalone)').matches || navigator.standalone === true;
}

/** Show what this browser cannot do; returns true when offline work is impossible. */
export function showCapabilityBanners({swOk, idbOk}) {
  if (isWeChat() || !swOk || !idbOk) {
    const why = isWeChat() ? '微信内置浏览器不能可靠地离线保存数据。'
      : !idbOk ? '本设备不能离线保存（浏览器不支持或禁止了本地数据库）。'
        : '本浏览器不支持离线使用。';
    banner('banner-browser', 'bad', h('strong', {}, why),
      ' 请点右上角 ··· → 在浏览器打开（用手机自带浏览器或 Chrome），再登录。');
    return true;
  }
  if (isIos() && !isStandalone()) {
    banner('banner-ios', 'warn', h('strong', {}, '请先添加到主屏幕：'),
      '在 Safari 中点“分享”→“添加到主屏幕”，以后从主屏幕的“排查通”打开。否则 Safari 可能在 7 天未使用后清除手机上未同步的记录。');
  }
  return false;
}

/** "新版本可用，点击更新"; ``onTap`` does the update. */
export function showUpdateBanner(onTap) {
  const button = h('button', {type: 'button', class: 'primary', id: 'update-button', onclick: onTap}, '新版本可用，点击更新');
  return banner('banner-update', 'info', button);
}
