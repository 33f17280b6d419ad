// The host's QR scanner. It fills the Scan view (#om-scan) and answers
// openmini.scanCode() for mini programs (OpenMiniHost.hook('scan')).
// Decoding: the camera through getUserMedia, read in the browser by the
// Barcode Detection API where it exists, else frames sent to the server
// (POST /host/api/scan); "scan from an image" sends the chosen picture.
// What the Scan view reads is classified by the server
// (POST /host/api/scan/open): our short links, launch links and W3C MiniApp
// Addressing URIs open their mini program in the shell; anything else is
// shown as text or a link and never opened by itself. scanCode only
// decodes and returns the text ({result, scanType: 'QR_CODE', ...}).
'use strict';
(function () {
  const H = window.OpenMiniHost;
  if (!H) return;
  const T = H.T;
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

  document.head.append(h('style', {}, `
.om-scanner { padding: 12px 16px 88px; max-width: 560px; margin: 0 auto; }
.om-scanner h2, .om-scan-sheet h2 { font-size: 18px; margin: 8px 0 12px; }
.om-scan-frame { position: relative; width: 100%; aspect-ratio: 1; max-height: 60vh; background: #111; border-radius: 12px; overflow: hidden; }
.om-scan-frame video { width: 100%; height: 100%; object-fit: cover; display: block; }
.om-scan-aim { position: absolute; inset: 18%; border: 2px solid rgba(255,255,255,.85); border-radius: 12px; pointer-events: none; }
.om-scan-status { min-height: 1.4em; margin: 10px 0; color: #555; overflow-wrap: anywhere; }
.om-scan-file { display: flex; align-items: center; justify-content: center; min-height: 44px; padding: 0 16px; border-radius: 8px; background: #e8ecee; cursor: pointer; font-weight: 500; }
.om-scan-file input { position: absolute; width: 1px; height: 1px; opacity: 0; overflow: hidden; }
.om-scan-result { margin: 14px 0; overflow-wrap: anywhere; }
.om-scan-result pre { white-space: pre-wrap; word-break: break-all; background: #f0f2f3; padding: 10px; border-radius: 8px; max-height: 40vh; overflow: auto; }
.om-scan-link { word-break: break-all; }
.om-scan-error, .om-scan-problem { color: #b3261e; }
.om-scan-again { margin-top: 10px; min-height: 44px; padding: 0 16px; border: 0; border-radius: 8px; background: #0a7d5a; color: #fff; font: inherit; }
.om-scan-layer { position: fixed; inset: 0; z-index: 50; background: rgba(0,0,0,.55); display: flex; align-items: flex-end; justify-content: center; }
.om-scan-sheet { background: #fff; width: 100%; max-width: 560px; max-height: 100%; overflow: auto; border-radius: 14px 14px 0 0; padding: 12px 16px 20px; box-sizing: border-box; }
.om-scan-cancel { width: 100%; margin-top: 10px; min-height: 44px; border: 0; border-radius: 8px; background: #e8ecee; font: inherit; }
`));

  // ------------------------------------------------------------ decoding
  let detectorPromise = null;
  function detector() {
    if (!detectorPromise) {
      detectorPromise = (async () => {
        if (!('BarcodeDetector' in window)) return null;
        try {
          const formats = await window.BarcodeDetector.getSupportedFormats();
          return formats.includes('qr_code') ? new window.BarcodeDetector({ formats: ['qr_code'] }) : null;
        } catch { return null; }
      })();
    }
    return detectorPromise;
  }

  // decodeOnServer sends a frame or picture to the server's decoder. It
  // resolves to the text, or null when the image holds no readable code.
  async function decodeOnServer(blob) {
    const res = await fetch('/host/api/scan', { method: 'POST', body: blob,
      headers: { 'Content-Type': blob.type || 'application/octet-stream', Accept: 'application/json' } });
    const out = await res.json().catch(() => ({}));
    if (res.ok) return out.result;
    const code = out.error ? out.error.code : 'unavailable';
    if (code === 'not_found') return null;
    throw new H.SDKError(code, out.error ? out.error.message : T('The image could not be read.'));
  }

  async function decodeImage(file) {
    const det = await detector();
    if (det && window.createImageBitmap) {
      try {
        const found = await det.detect(await createImageBitmap(file));
        if (found.length) return found[0].rawValue;
      } catch { /* fall back to the server */ }
    }
    return decodeOnServer(file);
  }

  // scanner fills box with a camera view, a status line and the "scan from
  // an image" button, and calls onText with the first code read.
  function scanner(box, onText, opts) {
    const video = h('video', { playsinline: true, muted: true, autoplay: true });
    const status = h('p', { class: 'om-scan-status', role: 'status' });
    const file = h('input', { type: 'file', accept: 'image/*', 'aria-label': T('Scan from an image') });
    const frame = h('div', { class: 'om-scan-frame' }, video, h('div', { class: 'om-scan-aim' }));
    box.replaceChildren(frame, status, opts && opts.onlyFromCamera ? null : h('label', { class: 'om-scan-file' }, T('Scan from an image'), file));
    let stream = null, timer = 0, running = false;

    file.addEventListener('change', async () => {
      const f = file.files && file.files[0];
      if (!f) return;
      status.textContent = T('Reading the image…');
      try {
        const text = await decodeImage(f);
        if (text === null) { status.textContent = T('No QR code was found in this image.'); return; }
        stop();
        onText(text);
      } catch (e) {
        status.textContent = e.message;
      } finally {
        file.value = '';
      }
    });

    function stopTracks() {
      if (stream) stream.getTracks().forEach((t) => t.stop());
      stream = null;
      video.srcObject = null;
    }
    function stop() { running = false; clearTimeout(timer); stopTracks(); }

    async function start() {
      if (running) return;
      running = true;
      if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
        status.textContent = T('The camera cannot be used here. Scan from an image instead.');
        return;
      }
      status.textContent = T('Starting the camera…');
      try {
        stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
      } catch (e) {
        status.textContent = e && e.name === 'NotAllowedError'
          ? T('The camera is not allowed. Allow it in the browser, or scan from an image.')
          : T('No camera is available. Scan from an image instead.');
        running = false;
        return;
      }
      if (!running) { stopTracks(); return; }
      video.srcObject = stream;
      await video.play().catch(() => {});
      status.textContent = T('Point the camera at a QR code.');
      loop(await detector());
    }

    // grab sends one video frame, scaled to at most 960 px, as a JPEG.
    function grab() {
      const scale = Math.min(1, 960 / Math.max(video.videoWidth, video.videoHeight));
      const c = h('canvas', { width: Math.round(video.videoWidth * scale), height: Math.round(video.videoHeight * scale) });
      c.getContext('2d').drawImage(video, 0, 0, c.width, c.height);
      return new Promise((resolve) => c.toBlob(resolve, 'image/jpeg', 0.85));
    }

    function loop(det) {
      if (!running) return;
      timer = setTimeout(async () => {
        if (!running) return;
        try {
          let text = null;
          if (video.readyState >= 2 && video.videoWidth) {
            if (det) {
              const found = await det.detect(video);
              if (found.length) text = found[0].rawValue;
            } else {
              const blob = await grab();
              if (blob) text = await decodeOnServer(blob);
            }
          }
          if (text !== null && running) { stop(); onText(text); return; }
        } catch (e) {
          status.textContent = e.message;
        }
        loop(det);
      }, det ? 200 : 900);
    }

    return { start, stop, status };
  }

  // ------------------------------------------------------------ the Scan view
  async function act(text, result, restart) {
    const again = () => h('button', { class: 'om-scan-again', type: 'button', onclick: restart }, T('Scan again'));
    result.replaceChildren(h('p', {}, T('Reading the code…')));
    let a;
    try {
      a = await H.api('/host/api/scan/open', { text });
    } catch (e) {
      result.replaceChildren(h('p', { class: 'om-scan-error' }, e.message), again());
      return;
    }
    if (a.open) {
      result.replaceChildren(h('p', {}, T('Opening…')));
      try {
        await H.open(a.open.appId, a.open.path, a.open.query, a.open.extra);
        result.replaceChildren();
      } catch (e) {
        result.replaceChildren(h('p', { class: 'om-scan-error' }, e.message), again());
      }
      return;
    }
    if (a.href) { location.assign(a.href); return; }
    if (a.problem) { result.replaceChildren(h('p', { class: 'om-scan-problem' }, a.problem), again()); return; }
    // Not ours: show it, and let the person decide. Only http(s) links
    // (checked by the server) become links; nothing is opened for them.
    result.replaceChildren(
      h('p', {}, a.link ? T('This code leads to another website. Open it only if you trust it:') : T('This code holds text:')),
      a.link ? h('p', {}, h('a', { class: 'om-scan-link', href: a.text, target: '_blank', rel: 'noopener noreferrer nofollow' }, a.text))
        : h('pre', { class: 'om-scan-text' }, a.text),
      a.reason ? h('p', { class: 'om-scan-note' }, T('It looks like a link of this platform, but: %s', a.reason)) : null,
      again());
  }

  // scanView fills the Scan view's body (#om-scan-body, or the whole view
  // in a shell without one) with the live scanner: the camera starts when
  // the view is shown and stops when it is left.
  function scanView() {
    const sec = document.getElementById('om-scan');
    if (!sec) return null;
    let slot = document.getElementById('om-scan-body');
    if (!slot) { slot = h('div', { id: 'om-scan-body' }); sec.append(slot); }
    // The live scanner replaces the shell's own "scan" button here.
    sec.querySelectorAll('[data-scan]').forEach((b) => { b.hidden = true; });
    const body = h('div');
    const result = h('div', { class: 'om-scan-result', id: 'om-scan-result', 'aria-live': 'polite' });
    slot.replaceChildren(h('div', { class: 'om-scanner' }, h('h2', {}, T('Scan a QR code')), body, result));
    const restart = () => { result.replaceChildren(); sc.start(); };
    const sc = scanner(body, (text) => act(text, result, restart));
    new MutationObserver(() => { if (sec.hidden) sc.stop(); else restart(); })
      .observe(sec, { attributes: true, attributeFilter: ['hidden'] });
    if (!sec.hidden) sc.start();

    // A pasted link goes the same way as a scanned one, so short links
    // and addressing URIs work there too.
    const paste = document.getElementById('om-paste');
    if (paste) {
      paste.addEventListener('submit', (e) => {
        const v = paste.elements.link ? paste.elements.link.value.trim() : '';
        if (!v) return;
        e.preventDefault();
        e.stopImmediatePropagation();
        sc.stop();
        act(v, result, restart);
      }, true);
    }
    // show does with text what a scan in the view does.
    return { show(text) { sc.stop(); act(text, result, restart); } };
  }

  // Any other "scan" button of the shell opens the scanner sheet and then
  // does what the Scan view does with the code.
  document.addEventListener('click', (e) => {
    const b = e.target.closest && e.target.closest('[data-scan]');
    if (!b || e.button !== 0) return;
    e.preventDefault();
    e.stopImmediatePropagation();
    scanSheet({ purpose: T('OpenMini') }).then((r) => {
      if (!view) return;
      H.showView('om-scan');
      setTimeout(() => view.show(r.result), 0); // after the view's scanner has restarted
    }, () => {});
  }, true);

  // ------------------------------------------------------------ scanCode
  function rawData(text) {
    let bin = '';
    for (const b of new TextEncoder().encode(text)) bin += String.fromCharCode(b);
    return btoa(bin);
  }

  // scanSheet shows the scanner in a sheet over whatever is on screen and
  // resolves with what it read ({result, scanType, charSet, rawData}), or
  // rejects with "cancelled".
  const scanSheet = (opts) => new Promise((resolve, reject) => {
    const box = h('div');
    const cancel = h('button', { class: 'om-scan-cancel', type: 'button' }, T('Cancel'));
    const layer = h('div', { class: 'om-scan-layer', role: 'dialog', 'aria-modal': 'true' },
      h('div', { class: 'om-scan-sheet' }, h('h2', {}, T('Scan a QR code for %s', opts.purpose || '')), box, cancel));
    document.body.append(layer);
    let done = false;
    const finish = (fn) => { if (done) return; done = true; sc.stop(); layer.remove(); fn(); };
    const sc = scanner(box, (text) => finish(() => resolve({ result: text, scanType: 'QR_CODE', charSet: 'utf-8', rawData: rawData(text) })), opts);
    cancel.addEventListener('click', () => finish(() => reject(new H.SDKError('cancelled', 'the user cancelled the scan'))));
    sc.start();
  });
  H.hook('scan', scanSheet);

  const view = scanView();
})();
