// The OpenMini host: runs mini programs in sandboxed iframes on their own
// origins and answers their SDK calls over postMessage. One page (the
// shell) stays loaded while the user moves between home and mini
// programs, so up to MAX_ALIVE mini programs keep their pages and state.
'use strict';
(function () {
  const MAX_ALIVE = 5;     // mini programs kept alive
  const MAX_STACK = 10;    // pages per mini program
  const SANDBOX = 'allow-scripts allow-same-origin allow-forms allow-downloads';
  const $ = (sel, el) => (el || document).querySelector(sel);
  const h = (tag, attrs, ...kids) => {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') el.className = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else if (v !== undefined && v !== null && v !== false) el.setAttribute(k, v === true ? '' : v);
    }
    for (const kid of kids.flat()) if (kid !== null && kid !== undefined) el.append(kid.nodeType ? kid : String(kid));
    return el;
  };
  const readJSON = (id) => { const el = document.getElementById(id); try { return el ? JSON.parse(el.textContent) : null; } catch { return null; } };
  const S = readJSON('om-strings') || {};
  const T = (s, ...args) => { let t = S[s] || s; args.forEach((a) => { t = t.replace('%s', a); }); return t; };

  // ------------------------------------------------------------ errors
  class SDKError extends Error { constructor(code, message) { super(message); this.code = code; } }
  const fail = (code, message) => { throw new SDKError(code, message); };

  // ------------------------------------------------------------ state
  const alive = new Map(); // appId -> instance
  let current = null;      // the instance on screen, or null for a host view
  let frameSeq = 0;

  // An instance is one running mini program: its launch data, its element
  // and its page stack (one iframe per page).
  function pageURL(inst, route, query) {
    let file = route.replace(/^\//, '');
    if (!/\.html?$/.test(file)) file += '.html';
    const qs = new URLSearchParams(query || {}).toString();
    return inst.l.base + file + (qs ? '?' + qs : '');
  }

  function resolveRoute(inst, from, url) {
    if (typeof url !== 'string' || !url) fail('invalid', 'url is required');
    const [p, qs] = url.split('?');
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
    new URLSearchParams(qs || '').forEach((v, k) => { query[k] = v; });
    return { route: known, query };
  }

  // createInstance builds the element of a mini program, or adopts the
  // one the server rendered for a cold launch (its first iframe is already
  // loading; moving an iframe would reload it, so nothing is moved).
  function createInstance(l, el) {
    if (!el) {
      el = h('section', { class: 'om-app', 'data-app': l.appId, hidden: true },
        h('header', { class: 'om-bar' },
          h('button', { class: 'om-back', 'aria-label': T('Back'), hidden: true }, '‹'),
          h('h1', { class: 'om-title' }, (l.window && l.window.navigation_bar_title_text) || l.name),
          h('div', { class: 'om-capsule' },
            h('button', { class: 'om-more', 'aria-label': T('More') }, '···'),
            h('button', { class: 'om-close', 'aria-label': T('Close') }, '×'))),
        h('div', { class: 'om-pages' }),
        h('div', { class: 'om-loading' },
          l.icon ? h('img', { src: l.icon, alt: '', width: 72, height: 72 }) : h('div', { class: 'om-icon-ph' }, l.name.slice(0, 1)),
          h('p', {}, l.name), h('div', { class: 'om-spinner', role: 'progressbar', 'aria-label': T('Loading') })));
      $('#om-apps').append(el);
    }
    const inst = { l, el, bar: $('.om-bar', el), pages: $('.om-pages', el), loading: $('.om-loading', el), stack: [], lastUsed: Date.now(), launched: false };
    $('.om-back', el).addEventListener('click', () => navigateBack(inst, 1));
    $('.om-more', el).addEventListener('click', () => capsuleMenu(inst));
    $('.om-close', el).addEventListener('click', () => closeApp(inst));
    applyWindow(inst);
    alive.set(l.appId, inst);
    return inst;
  }

  function applyWindow(inst) {
    const w = inst.l.window || {};
    if (w.navigation_bar_background_color) inst.bar.style.background = w.navigation_bar_background_color;
    inst.bar.style.color = w.navigation_bar_text_style === 'white' ? '#fff' : '#000';
    if (w.background_color) inst.pages.style.background = w.background_color;
    inst.el.classList.toggle('om-fullscreen', !!w.fullscreen || w.navigation_style === 'custom');
    if (w.orientation === 'landscape' || w.orientation === 'portrait') {
      inst.el.dataset.orientation = w.orientation;
      if (screen.orientation && screen.orientation.lock) screen.orientation.lock(w.orientation).catch(() => {});
    }
  }

  function pushFrame(inst, route, query, existing) {
    if (inst.stack.length >= MAX_STACK) fail('limit', 'the page stack is full (' + MAX_STACK + ' pages); use redirectTo or navigateBack');
    const id = ++frameSeq;
    const opts = inst.stack.length === 0 ? launchOptions(inst) : null;
    const src = pageURL(inst, route, query) + (opts ? '#om=' + encodeURIComponent(JSON.stringify(opts)) : '');
    const iframe = existing || h('iframe', { sandbox: SANDBOX, allow: 'fullscreen', title: inst.l.name, src });
    if (existing) existing.removeAttribute('id');
    iframe.dataset.frame = id;
    const page = { id, iframe, route, query, ready: false, loaded: false };
    iframe.addEventListener('load', () => loaded(inst, page));
    const top = inst.stack[inst.stack.length - 1];
    if (top) { top.iframe.hidden = true; sendEvent(inst, top, 'page.hide', {}); }
    inst.stack.push(page);
    if (!existing) inst.pages.append(iframe);
    updateBar(inst);
    return page;
  }

  // loaded runs once per page when its document finished loading (the SDK
  // says so; the iframe's load event is the fallback for pages without it).
  function loaded(inst, page) {
    if (page.loaded) return;
    page.loaded = true;
    inst.loading.hidden = true;
    if (page.ready) sendEvent(inst, page, 'page.ready', {});
  }

  function launchOptions(inst) {
    const l = inst.l;
    return { path: l.path, query: l.query, scene: l.scene, referrerInfo: l.referrer ? { appId: l.referrer } : {},
      appId: l.appId, version: l.version, versionKind: l.versionKind, host: location.origin };
  }

  function updateBar(inst) {
    $('.om-back', inst.bar).hidden = inst.stack.length < 2;
  }

  function popFrame(inst) {
    const page = inst.stack.pop();
    sendEvent(inst, page, 'page.unload', {});
    setTimeout(() => page.iframe.remove(), 0);
    const top = inst.stack[inst.stack.length - 1];
    if (top) { top.iframe.hidden = false; sendEvent(inst, top, 'page.show', {}); }
    updateBar(inst);
  }

  // ------------------------------------------------------------ showing
  function show(inst) {
    if (current === inst) return;
    if (current) hideInstance(current);
    document.querySelectorAll('.om-view').forEach((v) => { v.hidden = true; });
    $('#om-tabs').hidden = true;
    inst.el.hidden = false;
    inst.lastUsed = Date.now();
    current = inst;
    document.title = inst.l.name;
    if (inst.launched) {
      sendApp(inst, 'app.show', launchOptions(inst));
      const top = inst.stack[inst.stack.length - 1];
      if (top) sendEvent(inst, top, 'page.show', {});
    }
    evict();
    renderSwitcher();
  }

  function hideInstance(inst) {
    inst.el.hidden = true;
    if (inst.launched) {
      const top = inst.stack[inst.stack.length - 1];
      if (top) sendEvent(inst, top, 'page.hide', {});
      sendApp(inst, 'app.hide', {});
    }
  }

  function showHome(view) {
    if (current) hideInstance(current);
    current = null;
    document.querySelectorAll('.om-view').forEach((v) => { v.hidden = v.id !== (view || 'om-home'); });
    $('#om-tabs').hidden = false;
    document.title = T('OpenMini');
    renderSwitcher();
  }

  // evict unloads the least recently used mini programs beyond MAX_ALIVE.
  function evict() {
    if (alive.size <= MAX_ALIVE) return;
    const byAge = [...alive.values()].filter((i) => i !== current).sort((a, b) => a.lastUsed - b.lastUsed);
    while (alive.size > MAX_ALIVE && byAge.length) unload(byAge.shift());
  }

  function unload(inst) {
    while (inst.stack.length) {
      const page = inst.stack.pop();
      sendEvent(inst, page, 'page.unload', {});
      page.iframe.remove();
    }
    inst.el.remove();
    alive.delete(inst.l.appId);
    if (current === inst) current = null;
    renderSwitcher();
  }

  function closeApp(inst) {
    unload(inst);
    if (history.state && history.state.om) history.pushState({ om: 'home' }, '', '/');
    showHome();
  }

  function renderSwitcher() {
    const box = $('#om-alive');
    if (!box) return;
    box.replaceChildren(...[...alive.values()].sort((a, b) => b.lastUsed - a.lastUsed).map((i) =>
      h('button', { class: 'om-chip', 'data-app': i.l.appId, onclick: () => { show(i); pushHistory(i); } },
        i.l.icon ? h('img', { src: i.l.icon, alt: '', width: 24, height: 24 }) : null, i.l.name)));
    box.parentElement.hidden = alive.size === 0;
  }

  // ------------------------------------------------------------ opening
  async function openApp(appId, path, query, extra) {
    const have = alive.get(appId);
    if (have && !path) { show(have); pushHistory(have); return have; }
    if (have) unload(have);
    const params = new URLSearchParams({ path: path || '', query: new URLSearchParams(query || {}).toString() });
    for (const [k, v] of Object.entries(extra || {})) if (v) params.set(k, v);
    const res = await fetch('/host/api/launch/' + encodeURIComponent(appId) + '?' + params, { headers: { Accept: 'application/json' } });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) fail(body.error ? body.error.code : 'unavailable', body.error ? body.error.message : T('The mini program could not be opened.'));
    return start(body);
  }

  function start(l, section) {
    const inst = createInstance(l, section);
    show(inst);
    pushFrame(inst, l.path, l.query, section ? $('iframe', section) : undefined);
    pushHistory(inst, true);
    return inst;
  }

  function pushHistory(inst, replace) {
    const top = inst.stack[inst.stack.length - 1];
    const qs = top ? new URLSearchParams(top.query).toString() : '';
    const url = '/app/' + inst.l.appId + '/' + (top ? top.route : '') + (qs ? '?' + qs : '');
    const state = { om: 'app', appId: inst.l.appId, depth: inst.stack.length };
    if (replace || location.pathname + location.search === url) history.replaceState(state, '', url);
    else history.pushState(state, '', url);
  }

  window.addEventListener('popstate', (e) => {
    const st = e.state;
    if (current && current.stack.length > 1 && (!st || st.appId !== current.l.appId || st.depth < current.stack.length)) {
      popFrame(current);
      return;
    }
    if (st && st.om === 'app' && alive.has(st.appId)) { show(alive.get(st.appId)); return; }
    showHome();
  });

  // ------------------------------------------------------------ bridge
  function frameOf(inst, source) {
    return inst.stack.find((p) => p.iframe.contentWindow === source);
  }

  window.addEventListener('message', (e) => {
    let inst = null;
    for (const i of alive.values()) if (i.l.origin === e.origin) { inst = i; break; }
    if (!inst) return; // not from a mini program we run
    const page = frameOf(inst, e.source);
    if (!page) return; // from that origin, but not from a frame we created
    const m = e.data;
    if (!m || typeof m !== 'object' || m.__om !== 1 || typeof m.id !== 'number' || typeof m.method !== 'string' ||
        m.method.length > 64 || (m.params !== undefined && (typeof m.params !== 'object' || Array.isArray(m.params)))) {
      return; // not a well-formed bridge call: ignore
    }
    handle(inst, page, m.id, m.method, m.params || {});
  });

  async function handle(inst, page, id, method, params) {
    const reply = (msg) => {
      if (page.iframe.contentWindow) page.iframe.contentWindow.postMessage(Object.assign({ __om: 1, id }, msg), inst.l.origin);
    };
    try {
      const fn = Object.prototype.hasOwnProperty.call(methods, method) ? methods[method] : null;
      if (!fn) fail('unsupported', 'openmini.' + method + ' is not available in this host');
      const result = await fn(inst, page, params);
      reply({ ok: true, result: result === undefined ? {} : result });
    } catch (err) {
      const code = err && err.code ? err.code : 'internal';
      reply({ ok: false, error: { code, message: (err && err.message) || code } });
      if (code === 'internal') console.error('openmini host:', method, err);
    }
  }

  function sendEvent(inst, page, event, data) {
    if (page && page.iframe.contentWindow) page.iframe.contentWindow.postMessage({ __om: 1, event, data }, inst.l.origin);
  }

  function sendApp(inst, event, data) {
    for (const p of inst.stack) sendEvent(inst, p, event, data);
  }

  // ------------------------------------------------------------ permissions
  const canonical = (n) => {
    n = String(n || '').toLowerCase().replace(/^system\./, '').replace(/^scope\./, '');
    return ({ userlocation: 'location', geolocation: 'location', profile: 'userinfo', phone: 'phonenumber' })[n] || n;
  };

  async function requirePermission(inst, perm) {
    const decl = inst.l.permissions.find((p) => canonical(p.name) === canonical(perm));
    if (!decl) fail('not_declared', 'the manifest does not declare the "' + perm + '" permission in req_permissions');
    const ask = (granted) => api('/host/api/consent', { app: inst.l.appId, permission: perm, granted });
    let d = await ask(undefined);
    if (!d.decided) {
      const ok = await sheet({
        title: T('%s wants to use your %s', inst.l.name, T('perm.' + canonical(perm))),
        body: decl.reason || '', confirm: T('Allow'), cancel: T('Deny'), kind: 'consent',
      });
      d = await ask(ok);
    }
    if (!d.granted) fail('denied', 'the user did not allow "' + perm + '"');
  }

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
    el.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { el.hidden = true; }, ms || 1500);
  }

  // sheet shows a modal dialog and resolves true (confirm) or false.
  function sheet({ title, body, confirm, cancel, items, kind }) {
    return new Promise((resolve) => {
      const layer = $('#om-layer');
      const done = (v) => { layer.hidden = true; layer.replaceChildren(); resolve(v); };
      const box = h('div', { class: 'om-sheet', role: 'dialog', 'aria-modal': 'true', 'data-kind': kind || 'modal' },
        title ? h('h2', {}, title) : null, body ? h('p', {}, body) : null,
        items ? h('div', { class: 'om-items' }, items.map((it, i) => h('button', { onclick: () => done(i) }, it))) : null,
        h('div', { class: 'om-actions' },
          cancel !== null ? h('button', { class: 'om-cancel', onclick: () => done(items ? -1 : false) }, cancel || T('Cancel')) : null,
          items ? null : h('button', { class: 'om-confirm', onclick: () => done(true) }, confirm || T('OK'))));
      layer.replaceChildren(box);
      layer.hidden = false;
      const first = box.querySelector('.om-confirm, .om-items button');
      if (first) first.focus();
    });
  }

  function capsuleMenu(inst) {
    const items = [T('Share'), T('Add to favourites'), T('About'), T('Report'), T('Close')];
    sheet({ items, cancel: T('Cancel'), kind: 'menu' }).then(async (i) => {
      if (i === 0) share(inst);
      if (i === 1) hooks.favourite ? hooks.favourite(inst).catch((e) => toast(e.message)) : toast(T('Sign in to keep favourites'));
      if (i === 2) about(inst);
      if (i === 3) report(inst);
      if (i === 4) closeApp(inst);
    });
  }

  function share(inst) {
    const top = inst.stack[inst.stack.length - 1];
    const qs = new URLSearchParams(Object.assign({}, top.query, { om_scene: 'share' })).toString();
    const url = location.origin + '/app/' + inst.l.appId + '/' + top.route + '?' + qs;
    if (navigator.share) navigator.share({ title: inst.l.name, url }).catch(() => {});
    else if (navigator.clipboard) navigator.clipboard.writeText(url).then(() => toast(T('Link copied')), () => toast(url, '', 4000));
    else toast(url, '', 4000);
  }

  function about(inst) {
    const l = inst.l;
    const perms = l.permissions.length ? l.permissions.map((p) => T('perm.' + canonical(p.name)) + (p.reason ? ': ' + p.reason : '')).join('\n') : T('No permissions');
    sheet({ title: l.name, body: T('Developer: %s', l.developer) + '\n' + T('Version: %s', l.version + (l.versionKind !== 'release' ? ' (' + T(l.versionKind) + ')' : '')) + '\n' + T('Permissions:') + '\n' + perms,
      cancel: null, confirm: T('OK'), kind: 'about' });
  }

  function report(inst) {
    const reasons = [T('Fraud or scam'), T('Inappropriate content'), T('Does not work'), T('Other')];
    sheet({ title: T('Report %s', inst.l.name), items: reasons, cancel: T('Cancel'), kind: 'report' }).then((i) => {
      if (i < 0) return;
      api('/host/api/report', { app: inst.l.appId, reason: ['fraud', 'content', 'broken', 'other'][i] })
        .then(() => toast(T('Thank you; the operator will look at it'), 'success'), (e) => toast(e.message, 'error'));
    });
  }

  // ------------------------------------------------------------ methods
  // Every SDK call lands here as methods[name](instance, page, params).
  // Other host files (identity, payments, scanner) add their own with
  // OpenMiniHost.register.
  const hooks = {};
  const methods = {
    // __ready: the page's SDK is up (it repeats the call until answered).
    __ready(inst, page) {
      const answer = { launch: launchOptions(inst), page: { route: page.route, query: page.query }, system: systemInfo() };
      if (page.ready) return answer;
      page.ready = true;
      if (!inst.launched) { inst.launched = true; sendApp(inst, 'app.launch', launchOptions(inst)); if (current === inst) sendApp(inst, 'app.show', launchOptions(inst)); }
      setTimeout(() => {
        sendEvent(inst, page, 'page.load', page.query);
        if (current === inst && inst.stack[inst.stack.length - 1] === page) sendEvent(inst, page, 'page.show', {});
        if (page.loaded) sendEvent(inst, page, 'page.ready', {});
      }, 0);
      return answer;
    },
    __loaded(inst, page) { loaded(inst, page); return {}; },
    __error(inst, page, p) {
      sendApp(inst, 'app.error', { message: String(p.message || '').slice(0, 2000) });
      if (hooks.error) hooks.error(inst.l.appId, page.route, p);
      return {};
    },
    getLaunchOptions(inst) { return launchOptions(inst); },
    navigateTo(inst, page, p) {
      const t = resolveRoute(inst, page.route, p.url);
      pushFrame(inst, t.route, t.query);
      pushHistory(inst);
      return {};
    },
    redirectTo(inst, page, p) {
      const t = resolveRoute(inst, page.route, p.url);
      const top = inst.stack.pop();
      sendEvent(inst, top, 'page.unload', {});
      setTimeout(() => top.iframe.remove(), 0);
      pushFrame(inst, t.route, t.query);
      pushHistory(inst, true);
      return {};
    },
    navigateBack(inst, page, p) { navigateBack(inst, Math.max(1, Number(p.delta) || 1)); return {}; },
    reLaunch(inst, page, p) {
      const t = resolveRoute(inst, page.route, p.url);
      while (inst.stack.length) { const pg = inst.stack.pop(); sendEvent(inst, pg, 'page.unload', {}); const f = pg.iframe; setTimeout(() => f.remove(), 0); }
      pushFrame(inst, t.route, t.query);
      pushHistory(inst, true);
      return {};
    },
    async navigateToMiniProgram(inst, page, p) {
      if (typeof p.appId !== 'string' || !/^[a-z][a-z0-9]{2,40}$/.test(p.appId)) fail('invalid', 'appId is not a mini program ID');
      const ok = await sheet({ title: T('Open another mini program?'), body: T('%s wants to open %s.', inst.l.name, p.appId), confirm: T('Open'), kind: 'confirm-open' });
      if (!ok) fail('cancelled', 'the user stayed');
      await openApp(p.appId, p.path || '', {}, { om_scene: 'miniprogram', om_ref: inst.l.appId });
      return {};
    },
    exit(inst) { setTimeout(() => closeApp(inst), 0); return {}; },
    showToast(inst, page, p) { toast(String(p.title || ''), p.icon, Math.min(Number(p.duration) || 1500, 10000)); return {}; },
    async showModal(inst, page, p) {
      const confirm = await sheet({ title: String(p.title || ''), body: String(p.content || ''), confirm: p.confirmText, cancel: p.showCancel === false ? null : p.cancelText, kind: 'modal' });
      return { confirm: !!confirm, cancel: !confirm };
    },
    async showActionSheet(inst, page, p) {
      if (!Array.isArray(p.itemList) || p.itemList.length === 0 || p.itemList.length > 6) fail('invalid', 'itemList needs 1 to 6 items');
      const i = await sheet({ items: p.itemList.map(String), cancel: T('Cancel'), kind: 'actionsheet' });
      if (i < 0) fail('cancelled', 'the user cancelled');
      return { tapIndex: i };
    },
    showLoading(inst, page, p) { const el = $('#om-busy'); $('p', el).textContent = String(p.title || T('Loading')); el.hidden = false; return {}; },
    hideLoading() { $('#om-busy').hidden = true; return {}; },
    setNavigationBarTitle(inst, page, p) { $('.om-title', inst.bar).textContent = String(p.title || ''); return {}; },
    setNavigationBarColor(inst, page, p) {
      const ok = (c) => typeof c === 'string' && /^#[0-9a-fA-F]{3,8}$/.test(c);
      if (p.backgroundColor !== undefined && !ok(p.backgroundColor)) fail('invalid', 'backgroundColor must be a hex colour');
      if (p.frontColor !== undefined && p.frontColor !== '#ffffff' && p.frontColor !== '#000000') fail('invalid', 'frontColor must be #ffffff or #000000');
      if (p.backgroundColor) inst.bar.style.background = p.backgroundColor;
      if (p.frontColor) inst.bar.style.color = p.frontColor;
      return {};
    },
    setStorage(inst, page, p) { return storage(inst, 'set', p.key, p.data); },
    getStorage(inst, page, p) { return storage(inst, 'get', p.key); },
    removeStorage(inst, page, p) { return storage(inst, 'remove', p.key); },
    clearStorage(inst) { return storage(inst, 'clear'); },
    getStorageInfo(inst) { return storage(inst, 'info'); },
    getSystemInfo() { return systemInfo(); },
    async getLocation(inst) {
      await requirePermission(inst, 'location');
      if (!navigator.geolocation) fail('unsupported', 'this device has no location');
      const pos = await new Promise((resolve, reject) => navigator.geolocation.getCurrentPosition(resolve,
        (e) => reject(new SDKError(e.code === 1 ? 'denied' : 'unavailable', e.message)), { timeout: 15000, maximumAge: 60000 }));
      return { latitude: pos.coords.latitude, longitude: pos.coords.longitude, accuracy: pos.coords.accuracy };
    },
    async setClipboardData(inst, page, p) {
      const text = String(p.data === undefined ? '' : p.data);
      if (text.length > 100000) fail('too_large', 'clipboard data is longer than 100000 characters');
      clip = text;
      if (navigator.clipboard) await navigator.clipboard.writeText(text).catch(() => {});
      toast(T('Copied'));
      return {};
    },
    async getClipboardData(inst) {
      await requirePermission(inst, 'clipboard');
      let text = clip;
      if (navigator.clipboard && navigator.clipboard.readText) text = await navigator.clipboard.readText().catch(() => clip);
      return { data: text };
    },
    async makePhoneCall(inst, page, p) {
      const n = String(p.phoneNumber || '');
      if (!/^\+?[0-9 ()-]{3,20}$/.test(n)) fail('invalid', 'phoneNumber is not a phone number');
      const ok = await sheet({ title: T('Call %s?', n), confirm: T('Call'), kind: 'call' });
      if (!ok) fail('cancelled', 'the user did not call');
      const a = h('a', { href: 'tel:' + n.replace(/[^0-9+]/g, '') });
      a.click();
      return {};
    },
    async scanCode(inst, page, p) {
      if (!hooks.scan) fail('unsupported', 'this host has no scanner');
      const r = await hooks.scan({ onlyFromCamera: !!p.onlyFromCamera, purpose: inst.l.name });
      return r;
    },
  };
  let clip = '';

  function navigateBack(inst, delta) {
    if (inst.stack.length <= 1) { closeApp(inst); return; }
    for (let i = 0; i < delta && inst.stack.length > 1; i++) popFrame(inst);
    pushHistory(inst, true);
  }

  async function storage(inst, op, key, data) {
    if (op !== 'clear' && op !== 'info' && (typeof key !== 'string' || !key)) fail('invalid', 'key is required');
    let body;
    if (op === 'set') {
      if (data === undefined) fail('invalid', 'data is required');
      body = JSON.stringify(data);
      if (body === undefined) fail('invalid', 'data cannot be stored as JSON');
      if (body.length > 1048576) fail('too_large', 'storage: one key holds at most 1 MB');
    }
    const out = await api('/host/api/storage', { app: inst.l.appId, op, key, data: body === undefined ? undefined : JSON.parse(body) });
    return out;
  }

  function systemInfo() {
    return {
      brand: 'OpenMini', model: navigator.userAgent.includes('Mobile') ? 'mobile' : 'desktop', platform: navigator.platform || '',
      pixelRatio: window.devicePixelRatio, screenWidth: screen.width, screenHeight: screen.height,
      windowWidth: window.innerWidth, windowHeight: window.innerHeight - 44, language: document.documentElement.lang,
      version: document.documentElement.dataset.version || '', SDKVersion: '1', theme: matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light',
    };
  }

  // ------------------------------------------------------------ public hooks
  // Other host scripts extend the host through this object.
  window.OpenMiniHost = Object.freeze({
    register(name, fn) { if (methods[name]) throw new Error('host method exists: ' + name); methods[name] = fn; },
    hook(name, fn) { hooks[name] = fn; },
    open: (appId, path, query, extra) => openApp(appId, path, query, extra),
    showHome, sheet, toast, requirePermission, api, T, SDKError, fail,
    alive: () => [...alive.keys()],
    current: () => (current ? current.l.appId : null),
  });

  // ------------------------------------------------------------ boot
  function boot() {
    document.addEventListener('click', (e) => {
      const a = e.target.closest && e.target.closest('a[data-open]');
      if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey) return;
      e.preventDefault();
      const u = new URL(a.href);
      const [, , appId, ...rest] = u.pathname.split('/');
      const q = {};
      u.searchParams.forEach((v, k) => { if (k !== 'om_scene') q[k] = v; });
      openApp(appId, rest.join('/'), q, { om_scene: u.searchParams.get('om_scene') || a.dataset.open || 'link' }).catch((err) => toast(err.message, 'error', 3000));
    });
    document.querySelectorAll('[data-tab]').forEach((b) => b.addEventListener('click', (e) => {
      e.preventDefault();
      showHome(b.dataset.tab);
      history.pushState({ om: 'view', view: b.dataset.tab }, '', b.getAttribute('href'));
    }));
    const l = readJSON('om-launch');
    if (l) {
      start(l, document.querySelector('.om-app[data-app]') || undefined);
    } else {
      history.replaceState({ om: 'home' }, '', location.href);
    }
    document.dispatchEvent(new CustomEvent('openmini:host-ready'));
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot); else boot();
})();
