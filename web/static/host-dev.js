// openmini dev: the host shell's side of the local simulator. Under
// `openmini dev` every host page loads this script after host.js. It
// sends the mini program's console output (the SDK's __console calls,
// made only when the launch's versionKind is "dev") and its uncaught
// errors to /_dev/api/console, which prints them in the developer's
// terminal, and it makes getSystemInfo report the simulator's device
// (window.OpenMiniDevDevice of the simulator page framing this shell).
'use strict';
(function () {
  const H = window.OpenMiniHost;
  if (!H) return;
  const LEVELS = ['log', 'info', 'warn', 'error', 'debug'];

  // The app being developed: the launch the server rendered this shell with.
  let devApp = '';
  try {
    const l = JSON.parse((document.getElementById('om-launch') || {}).textContent || 'null');
    if (l && l.versionKind === 'dev') devApp = l.appId;
  } catch { /* no launch on this page */ }

  // Lines go out one at a time, in order.
  let queue = Promise.resolve();
  function send(line) {
    queue = queue.then(() => fetch('/_dev/api/console', {
      method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: JSON.stringify(line),
    })).catch(() => {});
  }

  try {
    H.register('__console', (inst, page, p) => {
      if (inst.l.versionKind !== 'dev') return {};
      devApp = inst.l.appId;
      const level = LEVELS.includes(p.level) ? p.level : 'log';
      send({ app: inst.l.appId, route: page.route, level, text: String(p.text === undefined ? '' : p.text).slice(0, 8000) });
      return {};
    });
  } catch (e) {
    console.warn('openmini dev: console output will not reach the terminal:', e.message);
  }

  const before = H._ && H._.hooks ? H._.hooks.error : null;
  H.hook('error', (appId, route, err) => {
    if (before) { try { before(appId, route, err); } catch { /* keep reporting */ } }
    if (appId !== devApp) return;
    err = err || {};
    send({ app: appId, route, level: 'uncaught', text: String(err.message || 'error').slice(0, 8000), source: String(err.source || '').slice(0, 500), line: Number(err.line) || 0 });
  });

  // ---------------------------------------------------------------- device
  // The simulator page (same origin, our parent) says which device it shows.
  const device = () => {
    try { return window.parent !== window && window.parent.OpenMiniDevDevice ? window.parent.OpenMiniDevDevice : null; } catch { return null; }
  };
  const descriptor = (obj, name) => {
    for (let o = obj; o; o = Object.getPrototypeOf(o)) {
      const d = Object.getOwnPropertyDescriptor(o, name);
      if (d) return d;
    }
    return null;
  };
  const emulate = (obj, name, pick) => {
    const real = descriptor(obj, name);
    if (!real || !real.get) return;
    try {
      Object.defineProperty(obj, name, { configurable: true, enumerable: true, get() { const d = device(); return d ? pick(d, real.get.call(obj)) : real.get.call(obj); } });
    } catch { /* not redefinable here: the real value stays */ }
  };
  emulate(window, 'devicePixelRatio', (d) => d.ratio);
  emulate(screen, 'width', (d) => d.width);
  emulate(screen, 'height', (d) => d.height);
  emulate(navigator, 'userAgent', (d, ua) => (d.mobile ? (/Mobi/.test(ua) ? ua : ua + ' Mobile') : ua.replace(/ Mobile\b/g, '')));
})();
