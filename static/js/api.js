// The /api/v1 client: bearer token, JSON in and out, errors as ApiError.

import {getMeta} from './db.js';

const BASE = document.getElementById('app')?.dataset.api || '/api/v1';
const TIMEOUT_MS = 30000;

export class ApiError extends Error {
  /** status 0 means the network failed (offline, timeout, connection cut). */
  constructor(status, code, message, details = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }

  get offline() { return this.status === 0; }
  get retryable() { return this.status === 0 || this.status === 429 || this.status >= 500; }
}

/** ``cookies``: send the web login's session cookie (only the /auth/session calls do);
 *  ``raw``: bytes sent as they are (a photo chunk), with the type in ``headers``. */
export async function request(method, path, {body, raw, token, auth = true, cookies = false, headers: extra = {}} = {}) {
  const headers = {'Accept': 'application/json', 'Accept-Language': 'zh-CN', ...extra};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (auth) {
    const current = token || (await getMeta('auth'))?.token;
    if (!current) throw new ApiError(401, 'not_logged_in', '请先登录');
    headers.Authorization = `Bearer ${current}`;
  }
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
  let response;
  try {
    response = await fetch(`${BASE}${path}`, {
      method, headers, body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
      signal: controller.signal, credentials: cookies ? 'same-origin' : 'omit', cache: 'no-store',
    });
  } catch (error) {
    throw new ApiError(0, 'network', '网络不通，数据已保存在手机上，稍后自动同步');
  } finally {
    clearTimeout(timer);
  }
  let payload = null;
  try {
    payload = await response.json();
  } catch (error) {
    if (response.ok) throw new ApiError(0, 'network', '服务器响应不完整，稍后重试');
  }
  if (!response.ok) {
    const err = (payload && payload.error) || {};
    throw new ApiError(response.status, err.code || `http_${response.status}`,
      err.message || `服务器错误（${response.status}）`, err.details || {});
  }
  return payload;
}
