// The OpenMini host: runs mini programs in sandboxed iframes on their own
// origins and answers their SDK calls over postMessage. One page (the
// shell) stays loaded while the user moves between its views and mini
// programs, so up to MAX_ALIVE mini programs keep their pages and state.
// host-methods.js adds the SDK's methods; other host scripts (identity,
// payments, scanner) extend it through window.OpenMiniHost. See
// docs/host.md.
'use strict';
(function () {
  const MAX_ALIVE = 5;     // mini programs kept alive
  const MAX_STACK = 10;    // pages per mini program
  const RETIRE_MS = 1000;  // a closed page may still save its state this long
  const SANDBOX = 'allow-scripts allow-same-origin allow-forms allow-downloads';
  const $ = (sel, el) => (el || document).querySelector(sel);
  const h = (tag, attrs, ...kids) => {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') el.className = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else if (v !== undefined && v !== null && v !== false) el.setAttribute(k, v === true ? '' : v);
    }
    for (const kid of kids.flat()) if (kid !== null && kid !== undefined && kid !== false) el.append(kid.nodeType ? kid : String(kid));
    return el;
  };
  const readJSON = (id) => { const el = document.getElementById(id); try { return el ? JSON.parse(el.textContent) : null; } catch { return null; } };
  const S = readJSON('om-strings') || {};
  const T = (s, ...args) => { let t = S[s] || s; args.forEach((a) => { t = t.replace('%s', a); }); return t; };

  // ------------------------------------------------------------ errors
  class SDKError extends Error { constructor(code, message) { super(message); this.code = code; } }
  const fail = (code, message) => { throw new SDKError(code, message); };

  // ------------------------------------------------------------ state
  const alive = new Map();    // appId -> instance
  const retiring = new Set(); // unloaded instances whose frames may still save state
  const closed = new Set();   // instance ids the user closed (their history entries are skipped)
  const recent = [];          // launches of this visit, newest first (not stored)
  let current = null;         // the instance on screen, or null for a host view
  let seq = 0;
  const nextSeq = () => Date.now() * 1000 + (++seq % 1000);

  // An instance is one running mini program: its launch data (l), its
  // element and its page stack (one iframe per page, top last).
  function pageURL(inst, route, query) {
    let file = route.replace(/^\//, '');
    if (!/\.html?$/.test(file)) file += '.html';
    const qs = new URLSearchParams(query || {}).toString();
    return inst.l.base + file + (qs ? '?' + qs : '');
  }

  // resolveRoute turns a navigation url ("/pages/cart?x=1", "../a/b")
  // relative to the current page into a page of the manifest.
  function resolveRoute(inst, from, url) {
    if (typeof url !== 'string' || !url) fail('invalid', 'url is required');
    if (url.length > 2048) fail('invalid', 'url is longer than 2048 characters');
    const qi = url.indexOf('?');
    const p = qi < 0 ? url : url.slice(0, qi);
    const qs = qi < 0 ? '' : url.slice(qi + 1);
    let route = p;
    if (!p.startsWith('/')) {
      const dir = from.includes('/') ? from.slice(0, from.lastIndexOf('/') + 1) : '';
      route = dir + p;
    }
    const parts = [];
    for (const seg of route.replace(/^\//, '').split('/')) {
      if (seg === '..') parts.pop(); else if (seg && seg !== '.') parts.push(seg);
    }
    route = parts.join('/').replace(/\.html?$/, '');
    const known = inst.l.pages.find((pg) => pg.replace(/\.html?$/, '') === route);
    if (!known) fail('not_found', 'no page "' + route + '" in this mini program');
    const query = {};
    new URLSearchParams(qs).forEach((v, k) => { query[k] = v; });
    return { route: known, query };
  }

  let iidSeq = 0;
  // createInstance builds the element of a mini program, or adopts the
  // one the server rendered for a cold launch (its first iframe is already
  // loading; moving an iframe would reload it, so nothing is moved).
  function createInstance(l, el) {
    if (!el) {
      el = h('section', { class: 'om-app', 'data-app': l.appId, hidden: true },
        h('header', { class: 'om-bar' },
          h('button', { class: 'om-back', type: 'button', 'aria-label': T('Back'), hidden: true }, '‹'),
          h('h1', { class: 'om-title' }, (l.window && l.window.navigation_bar_title_text) || l.name),
          h('div', { class: 'om-capsule' },
            h('button', { class: 'om-more', type: 'button', 'aria-label': T('More') }, '···'),
            h('button', { class: 'om-close', type: 'button', 'aria-label': T('Leave (keeps it running)') }, '◯'))),
        h('div', { class: 'om-pages' }),
        h('div', { class: 'om-loading' },
          l.icon ? h('img', { src: l.icon, alt: '', width: 72, height: 72 }) : h('div', { class: 'om-icon-ph' }, l.name),
          h('p', {}, l.name), h('div', { class: 'om-spinner', role: 'progressbar', 'aria-label': T('Loading') })),
        h('div', { class: 'om-busy', hidden: true }, h('div', { class: 'om-spinner' }), h('p', {})));
      $('#om-apps').append(el);
    }
    const inst = {
      l, el, iid: ++iidSeq, gen: 1, hist: 1, extra: null,
      bar: $('.om-bar', el), pages: $('.om-pages', el), loading: $('.om-loading', el), busy: $('.om-busy', el),
      stack: [], retired: [], lastUsed: Date.now(), launched: false, showScene: l.scene,
    };
    $('.om-back', el).addEventListener('click', () => { if (inst.stack.length > 1) navigateBack(inst, 1); });
    $('.om-more', el).addEventListener('click', () => capsuleMenu(inst));
    $('.om-close', el).addEventListener('click', () => leave());
    applyWindow(inst);
    alive.set(l.appId, inst);
    recent.splice(0, recent.length, ...[{ appId: l.appId, name: l.name, icon: l.icon }, ...recent.filter((r) => r.appId !== l.appId)].slice(0, 20));
    return inst;
  }

  // applyWindow applies the manifest's window members (W3C MiniApp
  // Manifest): colours of the navigation bar and the window, fullscreen
  // or a custom navigation bar (the app draws its own; only the capsule
  // stays), and the orientation.
  function applyWindow(inst) {
    const w = inst.l.window || {};
    inst.defaults = {
      title: w.navigation_bar_title_text || inst.l.name,
      bg: validColour(w.navigation_bar_background_color) ? w.navigation_bar_background_color : '',
      fg: w.navigation_bar_text_style === 'white' ? '#ffffff' : '#000000',
    };
    if (validColour(w.background_color)) {
      inst.pages.style.background = w.background_color;
      inst.loading.style.background = w.background_color;
      inst.el.style.background = w.background_color;
    }
    inst.el.classList.toggle('om-fullscreen', !!w.fullscreen || w.navigation_style === 'custom');
    if (w.orientation === 'landscape' || w.orientation === 'portrait') {
      inst.el.dataset.orientation = w.orientation;
    }
    updateBar(inst);
  }
  const validColour = (c) => typeof c === 'string' && /^#(?:[0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$/.test(c);

  const top = (inst) => inst.stack[inst.stack.length - 1];

  // updateBar shows the top page's title and colours (each page keeps the
  // ones it set) and the back button when there is a page to go back to.
  function updateBar(inst) {
    const t = top(inst) || {};
    $('.om-title', inst.bar).textContent = t.title || inst.defaults.title;
    inst.bar.style.background = t.barBg || inst.defaults.bg;
    inst.bar.style.color = t.barFg || inst.defaults.fg;
    inst.bar.dataset.front = (t.barFg || inst.defaults.fg) === '#ffffff' ? 'white' : 'black';
    $('.om-back', inst.bar).hidden = inst.stack.length < 2;
  }

  // ------------------------------------------------------------ pages
  function pushFrame(inst, route, query, existing) {
    if (inst.stack.length >= MAX_STACK) fail('limit', 'the page stack is full (' + MAX_STACK + ' pages); use redirectTo or navigateBack');
    const opts = inst.stack.length === 0 ? launchOptions(inst) : null;
    const src = pageURL(inst, route, query) + (opts ? '#om=' + encodeURIComponent(JSON.stringify(opts)) : '');
    const iframe = existing || h('iframe', { sandbox: SANDBOX, allow: 'fullscreen', title: inst.l.name, src });
    const page = { iframe, route, query: query || {}, started: false, loaded: false, readySent: false };
    iframe.addEventListener('load', () => loaded(inst, page));
    const prev = top(inst);
    if (prev) { prev.iframe.hidden = true; sendEvent(inst, prev, 'page.hide'); }
    inst.stack.push(page);
    if (!existing) inst.pages.append(iframe);
    updateBar(inst);
    return page;
  }

  function popFrame(inst) {
    const page = inst.stack.pop();
    retire(inst, page);
    const t = top(inst);
    if (t) { t.iframe.hidden = false; if (current === inst) sendEvent(inst, t, 'page.show'); }
    updateBar(inst);
  }

  // retire unloads a page: it gets page.unload, disappears at once, and
  // its frame is removed a moment later (so its onUnload may still save).
  function retire(inst, page) {
    sendEvent(inst, page, 'page.unload');
    page.iframe.hidden = true;
    page.iframe.removeAttribute('name');
    inst.retired.push(page);
    setTimeout(() => { page.iframe.remove(); inst.retired = inst.retired.filter((p) => p !== page); }, RETIRE_MS);
  }

  // loaded runs once per page when its document finished loading (the
  // SDK says so; the iframe's load event is the fallback).
  // loadExtensions loads the host's extension scripts (identity, payments,
  // scanner...) that a cold launch defers until its first page has
  // loaded, so they do not compete with it; a call to a method they
  // provide waits for them. It resolves once all have run (or failed).
  let extensions = null;
  function loadExtensions() {
    if (extensions) return extensions;
    const list = readJSON('om-late-scripts') || [];
    extensions = Promise.all(list.map((src) => new Promise((resolve) => {
      const el = document.createElement('script');
      el.src = src;
      el.onload = el.onerror = () => resolve();
      document.head.append(el);
    })));
    return extensions;
  }

  function loaded(inst, page) {
    if (page.loaded) return;
    page.loaded = true;
    loadExtensions();
    inst.loading.hidden = true;
    if (page.started && !page.readySent) { page.readySent = true; sendEvent(inst, page, 'page.ready'); }
  }

  // started runs after the host answered a page's handshake: the
  // lifecycle begins (W3C MiniApp Lifecycle, in WeChat's order):
  // app.launch, app.show (first page of a launch), then page.load,
  // page.show (when on screen), page.ready (when loaded).
  function started(inst, page) {
    if (page.started || !inst.stack.includes(page)) return;
    page.started = true;
    if (!inst.launched) {
      inst.launched = true;
      sendEvent(inst, page, 'app.launch', launchOptions(inst));
      if (current === inst) sendEvent(inst, page, 'app.show', showOptions(inst));
    }
    sendEvent(inst, page, 'page.load', page.query);
    if (current === inst && top(inst) === page) sendEvent(inst, page, 'page.show');
    if (page.loaded) { page.readySent = true; sendEvent(inst, page, 'page.ready'); }
  }

  function launchOptions(inst) {
    const l = inst.l;
    const referrerInfo = l.referrer ? { appId: l.referrer } : {};
    if (l.referrer && inst.extra) referrerInfo.extraData = inst.extra;
    return { path: l.path, query: l.query, scene: l.scene, referrerInfo, appId: l.appId, version: l.version, versionKind: l.versionKind, host: location.origin };
  }

  // showOptions is what app.show carries: the page on screen and how the
  // app came (back) to the foreground.
  function showOptions(inst) {
    const t = top(inst);
    const o = { path: t ? t.route : inst.l.path, query: t ? t.query : inst.l.query, scene: inst.showScene, referrerInfo: {} };
    if (inst.showReferrer) o.referrerInfo = inst.showReferrer;
    return o;
  }

  // ------------------------------------------------------------ showing
  // appEvent tells other host scripts that a mini program came on screen
  // or left it: openmini:app on document, detail {appId, launchId, shown}.
  const appEvent = (inst, shown) => document.dispatchEvent(new CustomEvent('openmini:app',
    { detail: { appId: inst.l.appId, launchId: inst.l.launchId || 0, shown } }));

  function show(inst, scene, referrer) {
    if (scene) { inst.showScene = scene; inst.showReferrer = referrer || null; }
    inst.lastUsed = Date.now();
    if (current === inst) return;
    if (current) hideInstance(current);
    document.querySelectorAll('.om-view').forEach((v) => { v.hidden = true; });
    $('#om-tabs').hidden = true;
    inst.el.hidden = false;
    current = inst;
    document.title = inst.l.name;
    appEvent(inst, true);
    if (inst.launched) {
      sendApp(inst, 'app.show', showOptions(inst));
      const t = top(inst);
      if (t) sendEvent(inst, t, 'page.show');
    }
    evict();
    renderLists();
    pumpSheets();
  }

  function hideInstance(inst) {
    inst.el.hidden = true;
    if (current === inst) { current = null; appEvent(inst, false); }
    parkSheet(inst);
    if (inst.launched) {
      const t = top(inst);
      if (t) sendEvent(inst, t, 'page.hide');
      sendApp(inst, 'app.hide', {});
    }
  }

  // showView shows one of the host's own views (home, my mini programs,
  // scan, or one another host script added); running mini programs stay
  // alive behind it.
  function showView(view) {
    loadExtensions();
    if (current) hideInstance(current);
    const want = view && document.getElementById(view) ? view : 'om-home';
    document.querySelectorAll('.om-view').forEach((v) => { v.hidden = v.id !== want; });
    document.querySelectorAll('#om-tabs a').forEach((a) => a.classList.toggle('om-on', a.dataset.tab === want));
    $('#om-tabs').hidden = false;
    document.title = T('OpenMini');
    renderLists();
    pumpSheets();
    document.dispatchEvent(new CustomEvent('openmini:view', { detail: { view: want } }));
  }

  // leave goes to the host's home and keeps the mini program running
  // (the capsule's ◯ button, as in WeChat).
  function leave() {
    showView('om-home');
    pushView('om-home', '/');
  }

  // evict unloads the least recently used mini programs beyond MAX_ALIVE.
  function evict() {
    if (alive.size <= MAX_ALIVE) return;
    const byAge = [...alive.values()].filter((i) => i !== current).sort((a, b) => a.lastUsed - b.lastUsed);
    while (alive.size > MAX_ALIVE && byAge.length) unload(byAge.shift());
  }

  // unload ends a mini program: its pages get page.unload (top first) and
  // everything of it goes.
  function unload(inst) {
    if (current === inst) hideInstance(inst);
    while (inst.stack.length) retire(inst, inst.stack.pop());
    alive.delete(inst.l.appId);
    retiring.add(inst);
    dropSheets(inst);
    setTimeout(() => { inst.el.remove(); retiring.delete(inst); }, RETIRE_MS);
    renderLists();
  }

  // closeApp ends a mini program for good (menu "Close", openmini.exit):
  // its history entries are skipped from now on.
  function closeApp(inst) {
    closed.add(inst.iid);
    const wasCurrent = current === inst;
    unload(inst);
    if (wasCurrent) { showView('om-home'); replaceView('om-home', '/'); }
  }

  // ------------------------------------------------------------ history
  // Every page a user reaches is a history entry, so the browser's back
  // button walks back through pages, then mini programs and views. An
  // entry's state names the instance and its page depth; entries of a
  // closed or relaunched instance are skipped.
  function appURL(inst) {
    const t = top(inst);
    const qs = t ? new URLSearchParams(t.query).toString() : '';
    return '/app/' + inst.l.appId + '/' + (t ? t.route : '') + (qs ? '?' + qs : '');
  }
  function appState(inst, s) {
    const t = top(inst);
    return { om: 'app', seq: s, appId: inst.l.appId, iid: inst.iid, gen: inst.gen, depth: inst.stack.length,
      route: t ? t.route : inst.l.path, query: t ? t.query : {}, scene: inst.l.scene };
  }
  let lastSeq = 0; // the seq of the entry on screen
  const keepSeq = () => (history.state && history.state.seq) || nextSeq();
  function pushEntry(inst) { lastSeq = nextSeq(); history.pushState(appState(inst, lastSeq), '', appURL(inst)); }
  function replaceEntry(inst) { lastSeq = keepSeq(); history.replaceState(appState(inst, lastSeq), '', appURL(inst)); }
  function pushView(view, url) { lastSeq = nextSeq(); history.pushState({ om: 'view', view, seq: lastSeq }, '', url); }
  function replaceView(view, url) { lastSeq = keepSeq(); history.replaceState({ om: 'view', view, seq: lastSeq }, '', url); }

  window.addEventListener('popstate', (e) => {
    const st = e.state || {};
    const back = !st.seq || st.seq < lastSeq;
    lastSeq = st.seq || 0;
    if (st.om !== 'app') {
      showView(st.view || 'om-home');
      return;
    }
    const skip = () => (back ? history.back() : history.forward());
    const inst = alive.get(st.appId);
    if (closed.has(st.iid) || (inst && (inst.iid !== st.iid || inst.gen !== st.gen))) { skip(); return; }
    if (!inst) {
      // Unloaded to make room, or from before a reload: open it again
      // at the entry's page.
      openApp(st.appId, st.route, st.query, { om_scene: st.scene || 'recent' }, true).catch((err) => { showView('om-home'); toast(err.message, 'error', 3000); });
      return;
    }
    const fromSame = current === inst;
    show(inst, fromSame ? null : 'recent');
    const before = inst.stack.length;
    while (inst.stack.length > Math.max(1, st.depth)) popFrame(inst);
    if (inst.stack.length < st.depth) {
      try { pushFrame(inst, st.route, st.query); } catch (err) { replaceEntry(inst); }
    }
    inst.hist = fromSame ? Math.max(1, inst.hist - (before - inst.stack.length)) : 1;
  });

  function navigateBack(inst, delta) {
    const n = Math.min(Math.max(1, delta | 0), inst.stack.length - 1);
    if (n <= 0) fail('limit', 'this is the first page; there is no page to go back to');
    if (current === inst && n < inst.hist && history.state && history.state.iid === inst.iid) {
      history.go(-n); // the popstate handler pops the pages
      return;
    }
    for (let i = 0; i < n; i++) popFrame(inst);
    // The entries below are not all this app's pages: make them stale.
    inst.gen++;
    inst.hist = 1;
    if (current === inst) replaceEntry(inst);
  }

  // ------------------------------------------------------------ opening
  // openApp shows appId: the running instance when no page is asked for,
  // else a fresh launch (through the server, which decides the version).
  async function openApp(appId, path, query, extra, replace) {
    extra = extra || {};
    const have = alive.get(appId);
    if (have && !path) {
      show(have, extra.om_scene || 'recent', extra.om_ref ? { appId: extra.om_ref } : null);
      if (replace) replaceEntry(have); else { pushEntry(have); have.hist = 1; }
      return have;
    }
    const params = new URLSearchParams({ path: path || '', query: new URLSearchParams(query || {}).toString() });
    for (const [k, v] of Object.entries(extra)) if (v && typeof v === 'string') params.set(k, v);
    const res = await fetch('/host/api/launch/' + encodeURIComponent(appId) + '?' + params, { headers: { Accept: 'application/json' } });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) fail(body.error ? body.error.code : 'unavailable', body.error ? body.error.message : T('The mini program could not be opened.'));
    if (alive.has(appId)) closeApp(alive.get(appId));
    const inst = start(body, null, extra.extraData);
    if (replace) replaceEntry(inst); else pushEntry(inst);
    return inst;
  }

  function start(l, section, extraData) {
    const inst = createInstance(l, section);
    if (extraData !== undefined) inst.extra = extraData;
    show(inst);
    pushFrame(inst, l.path, l.query, section ? $('iframe', section) : undefined);
    return inst;
  }

  // ------------------------------------------------------------ bridge
  // A message is a call only when it comes from a frame this host created
  // for a mini program (event.source) and that frame is still on the app's
  // own origin (event.origin); anything else is ignored without a reply.
  function sender(e) {
    for (const inst of [...alive.values(), ...retiring]) {
      if (inst.l.origin !== e.origin) continue;
      const page = inst.stack.find((p) => p.iframe.contentWindow === e.source);
      if (page && alive.get(inst.l.appId) === inst) return { inst, page, live: true };
      const old = page || inst.retired.find((p) => p.iframe.contentWindow === e.source);
      if (old) return { inst, page: old, live: false };
    }
    return null;
  }

  // Methods a page may still call after it was closed (its onUnload).
  const AFTER_CLOSE = new Set(['setStorage', 'getStorage', 'removeStorage', 'clearStorage', 'getStorageInfo', '__error']);
  const METHOD_RE = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

  window.addEventListener('message', (e) => {
    const from = sender(e);
    if (!from) return;
    const m = e.data;
    if (!m || typeof m !== 'object' || Array.isArray(m) || m.__om !== 1 || !Number.isSafeInteger(m.id) || m.id < 1 ||
        typeof m.method !== 'string' || !METHOD_RE.test(m.method) ||
        (m.params !== undefined && (m.params === null || typeof m.params !== 'object' || Array.isArray(m.params)))) {
      return; // not a well-formed bridge call: ignore
    }
    if (!from.live && !AFTER_CLOSE.has(m.method)) return;
    handle(from.inst, from.page, m.id, m.method, m.params || {});
  });

  async function handle(inst, page, id, method, params) {
    const reply = (msg) => {
      const w = page.iframe.contentWindow;
      if (w) w.postMessage(Object.assign({ __om: 1, id }, msg), inst.l.origin);
    };
    try {
      const has = () => Object.prototype.hasOwnProperty.call(methods, method);
      if (!has()) await loadExtensions();
      const fn = has() ? methods[method] : null;
      if (!fn) fail('unsupported', 'openmini.' + method + ' is not available in this host');
      const result = await fn(inst, page, params);
      reply({ ok: true, result: result === undefined ? {} : result });
      if (method === '__ready') started(inst, page);
    } catch (err) {
      const code = err && typeof err.code === 'string' ? err.code : 'internal';
      reply({ ok: false, error: { code, message: String((err && err.message) || code) } });
      if (code === 'internal') console.error('openmini host:', method, err);
    }
  }

  // sendEvent delivers a lifecycle event to a page whose SDK is up.
  function sendEvent(inst, page, event, data) {
    if (!page || !page.started) return;
    const w = page.iframe.contentWindow;
    if (w) w.postMessage({ __om: 1, event, data: data === undefined ? {} : data }, inst.l.origin);
  }

  function sendApp(inst, event, data) {
    for (const p of inst.stack) sendEvent(inst, p, event, data);
  }

  // ------------------------------------------------------------ permissions
  const canonical = (n) => {
    n = String(n || '').toLowerCase().replace(/^system\./, '').replace(/^scope\./, '');
    return ({ userlocation: 'location', geolocation: 'location', profile: 'userinfo', phone: 'phonenumber' })[n] || n;
  };

  // requirePermission passes when the manifest declares perm in
  // req_permissions and the user allows it (asked once per app, then
  // remembered on the server); else it fails with not_declared or denied.
  async function requirePermission(inst, perm) {
    const decl = inst.l.permissions.find((p) => canonical(p.name) === canonical(perm));
    if (!decl) fail('not_declared', 'the manifest does not declare the "' + perm + '" permission in req_permissions');
    const ask = (granted) => api('/host/api/consent', { app: inst.l.appId, permission: perm, granted });
    let d = await ask(undefined);
    if (!d.decided) {
      const ok = await sheet({
        title: T('%s wants to use your %s', inst.l.name, T('perm.' + canonical(perm))),
        body: decl.reason || '', confirm: T('Allow'), cancel: T('Deny'), kind: 'consent', inst,
      });
      d = await ask(ok);
    }
    if (!d.granted) fail('denied', 'the user did not allow "' + perm + '"');
  }

  // api posts JSON to a host endpoint; errors keep the server's code.
  async function api(url, body) {
    const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: JSON.stringify(body) });
    const out = await res.json().catch(() => ({}));
    if (!res.ok) fail(out.error ? out.error.code : 'unavailable', out.error ? out.error.message : 'request failed (' + res.status + ')');
    return out;
  }

  // ------------------------------------------------------------ host UI
  let toastTimer = 0;
  function toast(text, icon, ms) {
    const el = $('#om-toast');
    el.textContent = (icon === 'success' ? '✓ ' : icon === 'error' ? '✕ ' : '') + text;
    el.dataset.icon = icon || 'none';
    el.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { el.hidden = true; }, ms || 1500);
  }

  // Sheets (modals, action sheets, consent) show one at a time. A sheet a
  // mini program asked for belongs to it: it waits while another app or a
  // host view is on screen, and is cancelled if the app is unloaded.
  const sheetQueue = [];
  let openSheet = null;
  function sheet(opts) {
    return new Promise((resolve) => {
      sheetQueue.push({ opts, inst: opts.inst || null, resolve });
      pumpSheets();
    });
  }
  function pumpSheets() {
    if (openSheet) return;
    const i = sheetQueue.findIndex((s) => !s.inst || s.inst === current);
    if (i < 0) return;
    const item = sheetQueue.splice(i, 1)[0];
    openSheet = item;
    const { title, body, confirm, cancel, items, kind } = item.opts;
    const layer = $('#om-layer');
    const done = (v) => {
      if (openSheet !== item) return;
      openSheet = null;
      layer.hidden = true;
      layer.replaceChildren();
      item.resolve(v);
      pumpSheets();
    };
    const box = h('div', { class: 'om-sheet', role: 'dialog', 'aria-modal': 'true', 'data-kind': kind || 'modal' },
      title ? h('h2', {}, title) : null, body ? h('p', {}, body) : null,
      items ? h('div', { class: 'om-items' }, items.map((it, n) => h('button', { type: 'button', 'data-index': n, onclick: () => done(n) }, it))) : null,
      h('div', { class: 'om-actions' },
        cancel !== null ? h('button', { type: 'button', class: 'om-cancel', onclick: () => done(items ? -1 : false) }, cancel || T('Cancel')) : null,
        items ? null : h('button', { type: 'button', class: 'om-confirm', onclick: () => done(true) }, confirm || T('OK'))));
    layer.replaceChildren(box);
    layer.hidden = false;
    const first = box.querySelector('.om-confirm, .om-items button');
    if (first) first.focus();
  }
  // parkSheet puts the open sheet of a mini program that leaves the
  // screen back at the front of the queue.
  function parkSheet(inst) {
    if (!openSheet || openSheet.inst !== inst) return;
    sheetQueue.unshift(openSheet);
    openSheet = null;
    $('#om-layer').hidden = true;
    $('#om-layer').replaceChildren();
  }
  function dropSheets(inst) {
    for (let i = sheetQueue.length - 1; i >= 0; i--) {
      const s = sheetQueue[i];
      if (s.inst === inst) { sheetQueue.splice(i, 1); s.resolve(s.opts.items ? -1 : false); }
    }
  }

  function capsuleMenu(inst) {
    const items = [T('Share'), T('Add to favourites'), T('About'), T('Report'), T('Close')];
    sheet({ items, cancel: T('Cancel'), kind: 'menu', inst }).then((i) => {
      if (i === 0) share(inst);
      if (i === 1) (hooks.favourite ? Promise.resolve(hooks.favourite(inst)) : Promise.reject(new Error(T('Sign in to keep favourites')))).catch((e) => toast(e.message));
      if (i === 2) about(inst);
      if (i === 3) report(inst);
      if (i === 4) closeApp(inst);
    });
  }

  function share(inst) {
    const t = top(inst);
    const qs = new URLSearchParams(Object.assign({}, t.query, { om_scene: 'share' })).toString();
    const url = location.origin + '/app/' + inst.l.appId + '/' + t.route + '?' + qs;
    if (hooks.share) { hooks.share(inst, url); return; }
    if (navigator.share) navigator.share({ title: inst.l.name, url }).catch(() => {});
    else if (navigator.clipboard) navigator.clipboard.writeText(url).then(() => toast(T('Link copied')), () => toast(url, '', 4000));
    else toast(url, '', 4000);
  }

  function about(inst) {
    const l = inst.l;
    const perms = l.permissions.length ? l.permissions.map((p) => '• ' + T('perm.' + canonical(p.name)) + (p.reason ? ': ' + p.reason : '')).join('\n') : T('No permissions');
    sheet({ title: l.name, body: T('Developer: %s', l.developer) + '\n' + T('Version: %s', l.version + (l.versionKind !== 'release' ? ' (' + T(l.versionKind) + ')' : '')) + '\n' + T('Permissions:') + '\n' + perms,
      cancel: null, confirm: T('OK'), kind: 'about', inst });
  }

  function report(inst) {
    const reasons = [T('Fraud or scam'), T('Inappropriate content'), T('Does not work'), T('Other')];
    sheet({ title: T('Report %s', inst.l.name), items: reasons, cancel: T('Cancel'), kind: 'report', inst }).then((i) => {
      if (i < 0) return;
      const t = top(inst);
      api('/host/api/report', { app: inst.l.appId, reason: ['fraud', 'content', 'broken', 'other'][i], page: t ? t.route : '', version: inst.l.version })
        .then(() => toast(T('Thank you; the operator will look at it'), 'success', 2500), (e) => toast(T(e.message), 'error', 3000));
    });
  }

  // ------------------------------------------------------------ host views
  // renderLists fills every list of running mini programs (home, my mini
  // programs) and of this visit's recent launches.
  function renderLists() {
    const running = [...alive.values()].sort((a, b) => b.lastUsed - a.lastUsed);
    document.querySelectorAll('.om-alive-list').forEach((box) => {
      box.replaceChildren(...running.map((i) => {
        const t = top(i);
        return h('li', { class: 'om-run', 'data-app': i.l.appId },
          h('a', { href: appURL(i), class: 'om-run-open', onclick: (e) => { if (e.button === 0 && !e.metaKey && !e.ctrlKey) { e.preventDefault(); show(i, 'recent'); pushEntry(i); i.hist = 1; } } },
            i.l.icon ? h('img', { src: i.l.icon, alt: '', width: 40, height: 40 }) : h('span', { class: 'om-icon-ph om-icon-sm' }, i.l.name),
            h('span', { class: 'om-run-text' }, h('strong', {}, i.l.name), h('small', {}, (t && t.title) || (t ? t.route : ''))),
          ),
          h('button', { type: 'button', class: 'om-run-close', 'aria-label': T('Close %s', i.l.name), onclick: () => closeApp(i) }, '×'));
      }));
      const wrap = box.closest('.om-running');
      if (wrap) wrap.hidden = running.length === 0;
    });
    document.querySelectorAll('.om-recent-list').forEach((box) => {
      box.replaceChildren(...recent.map((r) => h('li', {}, h('a', { href: '/app/' + r.appId + '/', 'data-open': 'recent' }, r.name))));
      const wrap = box.closest('.om-recent');
      if (wrap) wrap.hidden = recent.length === 0;
    });
  }

  // openLink opens a launch link of this host (/app/{id}/{page}?{query})
  // inside the shell; false when url is not one.
  function openLink(url, scene) {
    let u;
    try { u = new URL(url, location.href); } catch { return false; }
    const m = /^\/app\/([a-z][a-z0-9]{2,40})(?:\/(.*))?$/.exec(u.pathname);
    if (u.origin !== location.origin || !m) return false;
    const q = {};
    u.searchParams.forEach((v, k) => { if (k !== 'om_scene') q[k] = v; });
    openApp(m[1], m[2] || '', q, { om_scene: u.searchParams.get('om_scene') || scene || 'link' }).catch((err) => toast(T(err.message), 'error', 3000));
    return true;
  }

  async function scan() {
    if (!hooks.scan) { toast(T('This host has no scanner yet; paste the link instead.'), '', 3000); return; }
    try {
      const r = await hooks.scan({ onlyFromCamera: false, purpose: T('OpenMini') });
      if (!r || !openLink(r.result || '', 'qr')) toast(T('That code is not a mini program link.'), 'error', 3000);
    } catch (err) {
      if (err && err.code !== 'cancelled') toast(T(err.message), 'error', 3000);
    }
  }

  // ------------------------------------------------------------ methods
  // Every SDK call lands in methods[name](instance, page, params); the
  // calls themselves are in host-methods.js. Other host files (identity,
  // payments, scanner) add theirs with OpenMiniHost.register.
  const hooks = {};
  const methods = Object.create(null);
  // hookReady resolves with hook name, waiting for the extension scripts
  // (which provide most hooks) when it is not there yet: a call made the
  // moment an app starts must not miss the scanner that loads just after.
  async function hookReady(name) {
    if (!hooks[name]) await loadExtensions();
    return hooks[name];
  }

  // ------------------------------------------------------------ public hooks
  // Other host scripts extend the host through this object (docs/host.md).
  window.OpenMiniHost = Object.freeze({
    register(name, fn) {
      if (!METHOD_RE.test(name) || typeof fn !== 'function') throw new Error('host method: bad name or function: ' + name);
      if (methods[name]) throw new Error('host method exists: ' + name);
      methods[name] = fn;
    },
    hook(name, fn) { hooks[name] = fn; },
    open: (appId, path, query, extra) => openApp(appId, path, query, extra),
    openLink, showView, showHome: showView, sheet, toast, requirePermission, api, T, SDKError, fail,
    alive: () => [...alive.keys()],
    current: () => (current ? current.l.appId : null),
    // internals for host-methods.js
    _: { MAX_STACK, h, $, top, hooks, hookReady, resolveRoute, pushFrame, popFrame, retire, loaded, sendEvent, navigateBack, openApp, closeApp, show, updateBar,
      launchOptions, pushEntry, replaceEntry, validColour, current: () => current },
  });

  // ------------------------------------------------------------ boot
  function boot() {
    document.addEventListener('click', (e) => {
      const a = e.target.closest && e.target.closest('a[data-open]');
      if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey) return;
      if (openLink(a.href, a.dataset.open)) e.preventDefault();
    });
    document.addEventListener('click', (e) => {
      const b = e.target.closest && e.target.closest('a[data-tab], a[data-tab-link]');
      if (!b || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey) return;
      const view = b.dataset.tab || b.dataset.tabLink;
      if (!document.getElementById(view)) return; // a view no script made: load its page
      e.preventDefault();
      showView(view);
      pushView(view, b.getAttribute('href'));
    });
    document.querySelectorAll('[data-scan]').forEach((b) => b.addEventListener('click', scan));
    const paste = $('#om-paste');
    if (paste) {
      paste.addEventListener('submit', (e) => {
        e.preventDefault();
        const v = paste.elements.link.value.trim();
        if (!openLink(v, 'link')) toast(T('That is not a mini program link of this host.'), 'error', 3000);
      });
    }
    const l = readJSON('om-launch');
    if (l) {
      const inst = start(l, document.querySelector('.om-app[data-app]') || undefined);
      replaceEntry(inst);
    } else {
      const view = document.body.dataset.view || 'om-home';
      showView(view);
      replaceView(view, location.pathname + location.search);
    }
    document.dispatchEvent(new CustomEvent('openmini:host-ready'));
  }
  // host-methods.js (loaded right after this file) fills the methods
  // table before boot runs.
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot); else setTimeout(boot, 0);
})();
