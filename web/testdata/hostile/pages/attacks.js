// Hostile: each attack returns what it got, so a test can check that the
// sandbox held. Nothing here should ever succeed.
(function () {
  function outcome(fn) {
    try { return { ok: true, value: String(fn()) }; } catch (e) { return { ok: false, error: e.name + ': ' + e.message }; }
  }
  var replies = [];
  window.addEventListener('message', function (e) {
    if (e.data && e.data.__om === 1 && typeof e.data.id === 'number' && e.data.id >= 900000) replies.push(e.data.id);
  });

  window.attacks = {
    replies: replies,
    // The host's DOM, cookies and session.
    readParent: function () { return outcome(function () { return parent.document.body.innerHTML.length; }); },
    readTopCookie: function () { return outcome(function () { return top.document.cookie; }); },
    readParentStorage: function () { return outcome(function () { return parent.localStorage.length; }); },
    ownCookie: function () { return document.cookie; },
    setDomain: function (d) {
      var r = outcome(function () { document.domain = d; return document.domain; });
      r.after = outcome(function () { return parent.document.title; });
      return r;
    },
    // Every other frame the host runs (other pages, other apps).
    readFrames: function () {
      var out = [];
      for (var i = 0; i < parent.frames.length; i++) {
        var f = parent.frames[i];
        if (f === window) continue;
        out.push(outcome(function () { return f.location.href + ' ' + f.document.body.innerText.slice(0, 50); }));
      }
      return out;
    },
    // Per-origin browser storage of this app.
    setLocal: function (k, v) { localStorage.setItem(k, v); return localStorage.getItem(k); },
    getLocal: function (k) { return localStorage.getItem(k); },
    // The network: everything but the allow-list must be refused.
    fetchURL: function (url) {
      return fetch(url, { mode: 'no-cors' }).then(function () { return 'reached'; }, function (e) { return 'blocked: ' + e.message; });
    },
    sdkRequest: function (url) {
      return openmini.request({ url: url }).then(function (r) { return 'reached ' + r.statusCode; }, function (e) { return 'blocked: ' + e.code; });
    },
    beacon: function (url) { return outcome(function () { return navigator.sendBeacon(url, 'x'); }); },
    image: function (url) {
      return new Promise(function (resolve) {
        var img = new Image();
        img.onload = function () { resolve('reached'); };
        img.onerror = function () { resolve('blocked'); };
        img.src = url;
      });
    },
    socket: function (url) {
      return new Promise(function (resolve) {
        try {
          var ws = new WebSocket(url);
          ws.onopen = function () { resolve('reached'); };
          ws.onerror = function () { resolve('blocked'); };
        } catch (e) { resolve('blocked: ' + e.name); }
      });
    },
    // Device APIs without declaring them.
    sdkLocation: function () {
      return openmini.getLocation().then(function () { return 'granted'; }, function (e) { return e.code; });
    },
    directLocation: function () {
      return new Promise(function (resolve) {
        navigator.geolocation.getCurrentPosition(function () { resolve('granted'); }, function (e) { resolve('error ' + e.code); }, { timeout: 5000 });
      });
    },
    directClipboard: function () {
      return navigator.clipboard.readText().then(function () { return 'read'; }, function (e) { return 'blocked: ' + e.name; });
    },
    // Leaving the sandbox through the top window or popups.
    topNavigate: function (url) { return outcome(function () { top.location.href = url; return 'no error'; }); },
    openTop: function (url) { return outcome(function () { return window.open(url, '_top'); }); },
    popup: function (url) { return outcome(function () { return window.open(url); }); },
    alert: function () { return outcome(function () { return alert('hi'); }); },
    // Forged bridge messages. ids from 900000 mark them, so replies can be
    // told apart from the SDK's own.
    nestedForge: function () {
      var f = document.createElement('iframe');
      document.body.appendChild(f);
      var r = outcome(function () {
        f.contentWindow.eval("top.postMessage({ __om: 1, id: 900001, method: 'setStorage', params: { key: 'forged', data: 'nested' } }, '*')");
        return 'posted';
      });
      return r;
    },
    malformed: function () {
      var bad = [null, 'setStorage', 42, [1, 2], { __om: 1 }, { __om: 2, id: 900010, method: 'setStorage', params: { key: 'forged', data: 1 } },
        { __om: 1, id: '900011', method: 'setStorage', params: { key: 'forged', data: 2 } },
        { __om: 1, id: 900012, method: 'setStorage', params: [1] },
        { __om: 1, id: 900013, method: 'x'.repeat(100) },
        { __om: 1, id: 900014, method: '__proto__' },
        { __om: 1, id: -5, method: 'setStorage', params: { key: 'forged', data: 3 } },
        { __om: 1, id: 900015, method: 'set Storage', params: { key: 'forged', data: 4 } }];
      bad.forEach(function (m) { parent.postMessage(m, '*'); });
      // A well-formed call to a method that does not exist is answered with an error.
      parent.postMessage({ __om: 1, id: 900016, method: 'constructor' }, '*');
      return bad.length;
    },
    forgeCalls: function (tag) {
      top.postMessage({ __om: 1, id: 900020, method: 'setStorage', params: { key: 'forged', data: tag } }, '*');
      top.postMessage({ __om: 1, id: 900021, method: 'navigateToMiniProgram', params: { appId: 'xyzabc' } }, '*');
      top.postMessage({ __om: 1, id: 900022, method: 'showModal', params: { title: 'forged', content: tag } }, '*');
      if (window.openmini) openmini.setStorage({ key: 'forged', data: tag + '-sdk' }).catch(function () {});
    },
  };
})();
