// The OpenMini host: the SDK's methods. Each is methods[name](instance,
// page, params) and returns the call's result (or throws an SDKError with
// a stable code); host.js delivers calls and replies. docs/sdk.md
// documents each call for mini program developers.
'use strict';
(function () {
  const H = window.OpenMiniHost;
  const { T, fail, sheet, toast, api, requirePermission, SDKError } = H;
  const { MAX_STACK, h, $, hookReady, resolveRoute, pushFrame, retire, loaded, sendEvent, navigateBack, openApp, closeApp, updateBar,
    launchOptions, pushEntry, replaceEntry, validColour } = H._;
  const str = (v, max) => String(v === undefined || v === null ? '' : v).slice(0, max);
  const isCurrent = (inst) => H._.current() === inst;

  const methods = {
    // __ready: the page's SDK is up (it repeats the call until answered);
    // the lifecycle starts right after the answer.
    __ready(inst, page) {
      return { launch: launchOptions(inst), page: { route: page.route, query: page.query }, system: systemInfo(inst) };
    },
    __loaded(inst, page) { loaded(inst, page); return {}; },
    // __error: an uncaught error or rejection in a page; app.error goes
    // back to that page's document (where its App({onError}) runs).
    __error(inst, page, p) {
      const err = { message: str(p.message, 2000), source: str(p.source, 500), line: Number(p.line) || 0, page: page.route };
      sendEvent(inst, page, 'app.error', err);
      hookReady('error').then((report) => { if (report) report(inst.l.appId, page.route, err); });
      return {};
    },
    getLaunchOptions(inst) { return launchOptions(inst); },

    // ---------------------------------------------------------- navigation
    navigateTo(inst, page, p) {
      if (inst.stack.length >= MAX_STACK) fail('limit', 'the page stack is full (' + MAX_STACK + ' pages); use redirectTo or navigateBack');
      const t = resolveRoute(inst, page.route, p.url);
      pushFrame(inst, t.route, t.query);
      if (isCurrent(inst)) { pushEntry(inst); inst.hist++; }
      return {};
    },
    redirectTo(inst, page, p) {
      const t = resolveRoute(inst, page.route, p.url);
      retire(inst, inst.stack.pop());
      pushFrame(inst, t.route, t.query);
      if (isCurrent(inst)) replaceEntry(inst);
      return {};
    },
    navigateBack(inst, page, p) {
      const delta = p.delta === undefined ? 1 : Number(p.delta);
      if (!Number.isInteger(delta) || delta < 1) fail('invalid', 'delta must be a whole number of pages, 1 or more');
      navigateBack(inst, delta);
      return {};
    },
    reLaunch(inst, page, p) {
      const t = resolveRoute(inst, page.route, p.url);
      while (inst.stack.length) retire(inst, inst.stack.pop());
      pushFrame(inst, t.route, t.query);
      inst.gen++;
      inst.hist = 1;
      if (isCurrent(inst)) replaceEntry(inst);
      return {};
    },
    async navigateToMiniProgram(inst, page, p) {
      if (typeof p.appId !== 'string' || !/^[a-z][a-z0-9]{2,40}$/.test(p.appId)) fail('invalid', 'appId is not a mini program ID');
      if (p.appId === inst.l.appId) fail('invalid', 'use navigateTo to open a page of this mini program');
      if (p.path !== undefined && typeof p.path !== 'string') fail('invalid', 'path must be a string');
      let extra;
      if (p.extraData !== undefined) {
        const json = JSON.stringify(p.extraData);
        if (json === undefined || json.length > 4096) fail('invalid', 'extraData must be JSON of at most 4096 characters');
        extra = JSON.parse(json);
      }
      const ok = await sheet({ title: T('Open another mini program?'), body: T('%s wants to open %s.', inst.l.name, p.appId), confirm: T('Open'), kind: 'confirm-open', inst });
      if (!ok) fail('cancelled', 'the user stayed');
      const [path, qs] = (p.path || '').split('?');
      const query = {};
      new URLSearchParams(qs || '').forEach((v, k) => { query[k] = v; });
      await openApp(p.appId, path.replace(/^\//, ''), query, { om_scene: 'miniprogram', om_ref: inst.l.appId, extraData: extra });
      return {};
    },
    exit(inst) { setTimeout(() => closeApp(inst), 0); return {}; },

    // ---------------------------------------------------------- UI
    showToast(inst, page, p) {
      const icon = ['success', 'error', 'loading', 'none'].includes(p.icon) ? p.icon : 'success';
      const ms = Math.min(Math.max(Number(p.duration) || 1500, 300), 10000);
      if (isCurrent(inst)) toast(str(p.title, 200), icon === 'none' || icon === 'loading' ? '' : icon, ms);
      return {};
    },
    async showModal(inst, page, p) {
      const confirm = await sheet({
        title: str(p.title, 200), body: str(p.content, 2000), confirm: p.confirmText ? str(p.confirmText, 20) : T('OK'),
        cancel: p.showCancel === false ? null : (p.cancelText ? str(p.cancelText, 20) : T('Cancel')), kind: 'modal', inst,
      });
      return { confirm: !!confirm, cancel: !confirm };
    },
    async showActionSheet(inst, page, p) {
      if (!Array.isArray(p.itemList) || p.itemList.length === 0 || p.itemList.length > 6) fail('invalid', 'itemList needs 1 to 6 items');
      const i = await sheet({ title: p.alertText ? str(p.alertText, 200) : '', items: p.itemList.map((x) => str(x, 100)), cancel: T('Cancel'), kind: 'actionsheet', inst });
      if (i < 0) fail('cancelled', 'the user cancelled');
      return { tapIndex: i };
    },
    showLoading(inst, page, p) {
      $('p', inst.busy).textContent = p.title === undefined ? T('Loading') : str(p.title, 100);
      inst.busy.classList.toggle('om-mask', !!p.mask);
      inst.busy.hidden = false;
      return {};
    },
    hideLoading(inst) { inst.busy.hidden = true; return {}; },
    setNavigationBarTitle(inst, page, p) {
      if (typeof p.title !== 'string') fail('invalid', 'title must be a string');
      page.title = p.title.slice(0, 100);
      updateBar(inst);
      return {};
    },
    setNavigationBarColor(inst, page, p) {
      if (p.backgroundColor !== undefined && !validColour(p.backgroundColor)) fail('invalid', 'backgroundColor must be a hex colour like #ff8800');
      if (p.frontColor !== undefined && p.frontColor !== '#ffffff' && p.frontColor !== '#000000') fail('invalid', 'frontColor must be #ffffff or #000000');
      if (p.backgroundColor) page.barBg = p.backgroundColor;
      if (p.frontColor) page.barFg = p.frontColor;
      updateBar(inst);
      return {};
    },

    // ---------------------------------------------------------- storage
    setStorage(inst, page, p) { return storage(inst, 'set', p.key, p.data); },
    getStorage(inst, page, p) { return storage(inst, 'get', p.key); },
    removeStorage(inst, page, p) { return storage(inst, 'remove', p.key); },
    clearStorage(inst) { return storage(inst, 'clear'); },
    getStorageInfo(inst) { return storage(inst, 'info'); },

    // ---------------------------------------------------------- device
    getSystemInfo(inst) { return systemInfo(inst); },
    async getLocation(inst) {
      await requirePermission(inst, 'location');
      if (!navigator.geolocation) fail('unsupported', 'this device has no location');
      const pos = await new Promise((resolve, reject) => navigator.geolocation.getCurrentPosition(resolve,
        (e) => reject(new SDKError(e.code === 1 ? 'denied' : 'unavailable', e.message || 'no position')), { timeout: 15000, maximumAge: 60000 }));
      return { latitude: pos.coords.latitude, longitude: pos.coords.longitude, accuracy: pos.coords.accuracy };
    },
    async setClipboardData(inst, page, p) {
      if (typeof p.data !== 'string') fail('invalid', 'data must be a string');
      if (p.data.length > 100000) fail('too_large', 'clipboard data is longer than 100000 characters');
      clip = p.data;
      if (navigator.clipboard && navigator.clipboard.writeText) await navigator.clipboard.writeText(p.data).catch(() => {});
      if (isCurrent(inst)) toast(T('Copied'), 'success');
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
      const ok = await sheet({ title: T('Call %s?', n), confirm: T('Call'), kind: 'call', inst });
      if (!ok) fail('cancelled', 'the user did not call');
      h('a', { href: 'tel:' + n.replace(/[^0-9+]/g, '') }).click();
      return {};
    },
    async scanCode(inst, page, p) {
      const scan = await hookReady('scan');
      if (!scan) fail('unsupported', 'this host has no scanner');
      const r = await scan({ onlyFromCamera: !!p.onlyFromCamera, purpose: inst.l.name, appId: inst.l.appId });
      if (!r || typeof r.result !== 'string') fail('cancelled', 'nothing was scanned');
      return { result: r.result, scanType: r.scanType || 'QR_CODE', charSet: r.charSet || 'utf-8', rawData: r.rawData || '' };
    },
  };
  let clip = '';
  for (const [name, fn] of Object.entries(methods)) H.register(name, fn);

  const utf8 = new TextEncoder();
  async function storage(inst, op, key, data) {
    if (op !== 'clear' && op !== 'info' && (typeof key !== 'string' || !key)) fail('invalid', 'key must be a non-empty string');
    if (key !== undefined && utf8.encode(key).length > 128) fail('invalid', 'key is longer than 128 bytes');
    let value;
    if (op === 'set') {
      if (data === undefined) fail('invalid', 'data is required');
      let json;
      try { json = JSON.stringify(data); } catch (e) { fail('invalid', 'data cannot be stored as JSON: ' + e.message); }
      if (json === undefined) fail('invalid', 'data cannot be stored as JSON');
      const n = utf8.encode(json).length;
      if (n > 1048576) fail('too_large', 'storage: the data for key "' + key + '" is ' + n + ' bytes; one key holds at most 1 MB');
      value = JSON.parse(json);
    }
    return api('/host/api/storage', { app: inst.l.appId, op, key, data: value });
  }

  function systemInfo(inst) {
    const box = inst && inst.pages;
    return {
      brand: 'OpenMini', model: /Mobi/.test(navigator.userAgent) ? 'mobile' : 'desktop', platform: navigator.platform || '',
      pixelRatio: window.devicePixelRatio, screenWidth: screen.width, screenHeight: screen.height,
      windowWidth: box && box.offsetWidth ? box.offsetWidth : window.innerWidth,
      windowHeight: box && box.offsetHeight ? box.offsetHeight : window.innerHeight,
      language: document.documentElement.lang, version: document.documentElement.dataset.version || '', SDKVersion: '1',
      theme: matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light',
      orientation: inst && inst.el.dataset.orientation ? inst.el.dataset.orientation : (innerWidth > innerHeight ? 'landscape' : 'portrait'),
    };
  }
})();
