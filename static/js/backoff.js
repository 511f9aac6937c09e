// Exponential backoff with full jitter: wait random(0, min(cap, base * 2^n)).
export const BASE_MS = 5000;
export const CAP_MS = 10 * 60 * 1000;

export function backoffDelay(failures, random = Math.random) {
  const ceiling = Math.min(CAP_MS, BASE_MS * 2 ** Math.max(0, failures - 1));
  return Math.round(random() * ceiling);
}
