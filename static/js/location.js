// Where the visit was saved: the phone's position and its accuracy, with the worker's
// permission. Never blocks a save: refused, unavailable or no fix in time is null.

export const LOCATE_TIMEOUT_MS = 10000;

/** {lat, lon, accuracy_m, altitude_m, at} or null. A fix up to 2 minutes old is taken as is. */
export function locate(timeout = LOCATE_TIMEOUT_MS) {
  if (!navigator.geolocation) return Promise.resolve(null);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), timeout + 500);
    navigator.geolocation.getCurrentPosition((position) => {
      clearTimeout(timer);
      const c = position.coords;
      const round = (x, n) => (x === null || x === undefined ? null : Number(x.toFixed(n)));
      resolve({lat: round(c.latitude, 6), lon: round(c.longitude, 6), accuracy_m: round(c.accuracy, 1),
        altitude_m: round(c.altitude, 1), at: new Date(position.timestamp).toISOString()});
    }, () => { clearTimeout(timer); resolve(null); },
    {enableHighAccuracy: true, timeout, maximumAge: 120000});
  });
}
