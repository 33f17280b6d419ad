// openmini: the JS SDK of OpenMini mini programs. The host injects this
// script into every page; it talks to the host window over postMessage
// with exact origins. Every call returns a Promise; errors carry a stable
// `code`. Types: openmini.d.ts. Docs: docs/sdk.md.
(function () {
  'use strict';
  if (window.openmini) return;
  var HOST = typeof __OPENMINI_HOST__ === 'string' ? __OPENMINI_HOST__ : '';
  var inHost = !!HOST && window.parent !== window;
  var seq = 0;
  var pending = new Map();
  var listeners = {};
  var last = {};        // the latest payload of each event, for late listeners
  var visible = false;  // whether the page is on screen
  var state = { launch: null, page: null, system: null };

  function OpenMiniError(code, message) {
    var e = new Error(message || code);
    e.name = 'OpenMiniError';
    e.code = code;
    return e;
  }

  // Launch options arrive in the entry page's URL fragment, so they are
  // there synchronously from the first line of app.js.
  try {
    var m = /[#&]om=([^&]*)/.exec(location.hash);
    if (m) state.launch = JSON.parse(decodeURIComponent(m[1]));
  } catch (e) { /* a damaged fragment: wait for the handshake */ }

  function post(msg) { window.parent.postMessage(msg, HOST); }

  function call(method, params) {
    return new Promise(function (resolve, reject) {
      if (!inHost) { reject(OpenMiniError('no_host', 'openmini.' + method + ' needs the OpenMini host; open this page through the platform')); return; }
      var id = ++seq;
      pending.set(id, { resolve: resolve, reject: reject });
      try {
        post({ __om: 1, id: id, method: method, params: params || {} });
      } catch (e) {
        pending.delete(id);
        reject(OpenMiniError('invalid', 'parameters cannot be sent to the host: ' + e.message));
      }
    });
  }

  window.addEventListener('message', function (e) {
    if (e.source !== window.parent || e.origin !== HOST) return;
    var msg = e.data;
    if (!msg || msg.__om !== 1) return;
    if (typeof msg.id === 'number') {
      var p = pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.result);
      else p.reject(OpenMiniError(msg.error && msg.error.code || 'internal', msg.error && msg.error.message));
    } else if (typeof msg.event === 'string') {
      emit(msg.event, msg.data);
    }
  });

  // ------------------------------------------------------------ events
  var sticky = { 'app.launch': 1, 'page.load': 1, 'page.ready': 1 };
  function emit(name, data) {
    last[name] = { data: data };
    if (name === 'page.show') visible = true;
    if (name === 'page.hide') visible = false;
    (listeners[name] || []).slice().forEach(function (fn) {
      try { fn(data); } catch (err) { setTimeout(function () { throw err; }); }
    });
  }
  function on(name, fn) {
    if (typeof fn !== 'function') throw OpenMiniError('invalid', 'on(' + name + '): listener must be a function');
    (listeners[name] = listeners[name] || []).push(fn);
    var replay = sticky[name] ? last[name] : (name === 'page.show' || name === 'app.show') && visible ? last[name] : null;
    if (replay) setTimeout(function () { fn(replay.data); });
    return function () { off(name, fn); };
  }
  function off(name, fn) {
    var l = listeners[name];
    if (l) listeners[name] = l.filter(function (x) { return x !== fn; });
  }

  // ------------------------------------------------------------ handshake
  var readyResolve;
  var ready = new Promise(function (r) { readyResolve = r; });
  function hello() {
    if (!inHost) return;
    var answered = false;
    var tries = 0;
    var tick = function () {
      if (answered || tries++ > 200) return;
      call('__ready', { url: location.pathname + location.search }).then(function (r) {
        if (answered) return;
        answered = true;
        state.launch = r.launch;
        state.page = r.page;
        state.system = r.system;
        readyResolve(r);
      }, function () {});
      setTimeout(tick, 100);
    };
    tick();
  }
  hello();
  window.addEventListener('load', function () { ready.then(function () { call('__loaded', {}); }); });
  window.addEventListener('error', function (e) {
    if (inHost) call('__error', { message: String(e.message || e.error || 'error'), source: String(e.filename || ''), line: e.lineno || 0 }).catch(function () {});
  });
  window.addEventListener('unhandledrejection', function (e) {
    var r = e.reason;
    if (inHost) call('__error', { message: 'unhandled rejection: ' + String(r && r.message || r) }).catch(function () {});
  });
  // Under `openmini dev`, console output also goes to the developer's terminal.
  ['log', 'info', 'warn', 'error', 'debug'].forEach(function (level) {
    var orig = console[level];
    console[level] = function () {
      orig.apply(console, arguments);
      if (inHost && state.launch && state.launch.versionKind === 'dev') {
        var text = Array.prototype.map.call(arguments, function (a) {
          try { return typeof a === 'string' ? a : JSON.stringify(a); } catch (e) { return String(a); }
        }).join(' ');
        call('__console', { level: level, text: text.slice(0, 4000) }).catch(function () {});
      }
    };
  });

  // ------------------------------------------------------------ API
  // Calls accept WeChat-style success/fail/complete callbacks as well as
  // returning a Promise.
  function api(method) {
    return function (params) {
      params = params || {};
      var cb = { success: params.success, fail: params.fail, complete: params.complete };
      var clean = {};
      Object.keys(params).forEach(function (k) { if (typeof params[k] !== 'function') clean[k] = params[k]; });
      var p = call(method, clean);
      if (cb.success || cb.fail || cb.complete) {
        p.then(function (r) { cb.success && cb.success(r); cb.complete && cb.complete(r); },
          function (e) { cb.fail && cb.fail(e); cb.complete && cb.complete(e); });
      }
      return p;
    };
  }

  var names = [
    'navigateTo', 'redirectTo', 'navigateBack', 'reLaunch', 'navigateToMiniProgram', 'exit',
    'showToast', 'showModal', 'showActionSheet', 'showLoading', 'hideLoading', 'setNavigationBarTitle', 'setNavigationBarColor',
    'setStorage', 'getStorage', 'removeStorage', 'clearStorage', 'getStorageInfo',
    'getSystemInfo', 'scanCode', 'getLocation', 'setClipboardData', 'getClipboardData', 'makePhoneCall',
    'getAuthCode', 'getLaunchData', 'tradePay', 'getLaunchOptions',
  ];
  var sdk = { version: '1', ready: ready, on: on, off: off, OpenMiniError: OpenMiniError };
  names.forEach(function (n) { sdk[n] = api(n); });
  // invoke calls a host method by name: the ones a host adds beyond this
  // list (payments, scanners...) without waiting for a new SDK.
  sdk.invoke = function (method, params) {
    if (typeof method !== 'string' || !/^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(method)) return Promise.reject(OpenMiniError('invalid', 'invoke: method must be a method name'));
    return api(method)(params);
  };
  sdk.env = Object.freeze({ inHost: inHost, host: HOST });

  sdk.getLaunchOptionsSync = function () {
    if (!state.launch) throw OpenMiniError('not_ready', 'launch options are not known yet; await openmini.ready');
    return state.launch;
  };
  sdk.getSystemInfoSync = function () {
    if (!state.system) throw OpenMiniError('not_ready', 'system information is not known yet; await openmini.ready');
    return state.system;
  };

  // request: fetch under the app's Content-Security-Policy, so only the
  // developer's allowed domains answer.
  sdk.request = function (params) {
    params = params || {};
    var run = function () {
      if (typeof params.url !== 'string' || !/^https?:\/\//.test(params.url)) throw OpenMiniError('invalid', 'request: url must be an absolute http(s) URL');
      var method = String(params.method || 'GET').toUpperCase();
      var headers = Object.assign({}, params.header || params.headers || {});
      var body;
      if (params.data !== undefined && method !== 'GET' && method !== 'HEAD') {
        if (typeof params.data === 'string' || params.data instanceof ArrayBuffer || params.data instanceof Blob || params.data instanceof FormData) body = params.data;
        else { body = JSON.stringify(params.data); if (!Object.keys(headers).some(function (k) { return k.toLowerCase() === 'content-type'; })) headers['Content-Type'] = 'application/json'; }
      }
      var url = params.url;
      if (params.data !== undefined && (method === 'GET' || method === 'HEAD') && typeof params.data === 'object') {
        var u = new URL(url);
        Object.keys(params.data).forEach(function (k) { u.searchParams.set(k, params.data[k]); });
        url = u.toString();
      }
      var ctrl = new AbortController();
      var timer = setTimeout(function () { ctrl.abort(); }, Math.min(Number(params.timeout) || 60000, 600000));
      return fetch(url, { method: method, headers: headers, body: body, signal: ctrl.signal, credentials: 'omit', redirect: 'follow' })
        .then(function (res) {
          var hdr = {};
          res.headers.forEach(function (v, k) { hdr[k] = v; });
          var read = params.responseType === 'arraybuffer' ? res.arrayBuffer() : res.text();
          return read.then(function (data) {
            if (params.responseType !== 'arraybuffer' && params.dataType !== 'text') {
              try { data = JSON.parse(data); } catch (e) { /* not JSON: keep text */ }
            }
            return { statusCode: res.status, data: data, header: hdr };
          });
        }, function (err) {
          throw OpenMiniError(ctrl.signal.aborted ? 'timeout' : 'network',
            'request to ' + new URL(url).host + ' failed: the domain may not be in this mini program\'s allowed domains (' + err.message + ')');
        })
        .finally(function () { clearTimeout(timer); });
    };
    var p;
    try { p = run(); } catch (e) { p = Promise.reject(e); }
    if (params.success || params.fail || params.complete) {
      p.then(function (r) { params.success && params.success(r); params.complete && params.complete(r); },
        function (e) { params.fail && params.fail(e); params.complete && params.complete(e); });
    }
    return p;
  };

  // Lifecycle helpers with WeChat's names.
  sdk.onAppShow = function (fn) { return on('app.show', fn); };
  sdk.onAppHide = function (fn) { return on('app.hide', fn); };
  sdk.onError = function (fn) { return on('app.error', fn); };

  Object.freeze(sdk);
  Object.defineProperty(window, 'openmini', { value: sdk, enumerable: true });

  // W3C MiniApp Lifecycle: App({...}) in app.js and Page({...}) in a
  // page's script register lifecycle callbacks.
  function register(obj, map) {
    if (!obj || typeof obj !== 'object') throw OpenMiniError('invalid', 'App() and Page() take an object');
    Object.keys(map).forEach(function (k) {
      if (typeof obj[k] === 'function') on(map[k], function (d) { obj[k].call(obj, d); });
    });
    return obj;
  }
  if (typeof window.App === 'undefined') {
    window.App = function (o) { return register(o, { onLaunch: 'app.launch', onShow: 'app.show', onHide: 'app.hide', onError: 'app.error' }); };
  }
  if (typeof window.Page === 'undefined') {
    window.Page = function (o) { return register(o, { onLoad: 'page.load', onReady: 'page.ready', onShow: 'page.show', onHide: 'page.hide', onUnload: 'page.unload' }); };
  }
})();
