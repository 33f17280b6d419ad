// openmini dev: the simulator page. It shows the host shell, opened on
// the project's app, in an iframe sized to a device preset (scaled down
// to fit the window), lists the project's problems, and reloads the
// shell when the project changes on disk (server-sent events from
// /_dev/events), keeping the page the developer was on.
'use strict';
(function () {
  const $ = (sel) => document.querySelector(sel);
  const body = document.body;
  const appId = body.dataset.app;
  const prefix = body.dataset.frame; // /app/{appId}/
  const frame = $('#dv-frame');
  const phone = $('#dv-phone');
  const holder = $('#dv-holder');
  const stage = $('#dv-stage');
  const select = $('#dv-device');
  const status = $('#dv-status');
  const S = {};
  document.querySelectorAll('#dv-strings [data-key]').forEach((el) => { S[el.dataset.key] = el.textContent; });
  let known = JSON.parse($('#dv-state').textContent);
  let rotated = false;
  let reloads = 0;

  // ---------------------------------------------------------------- device
  function setDevice() {
    const o = select.selectedOptions[0];
    const w = Number(o.dataset.width);
    const h = Number(o.dataset.height);
    const d = { id: o.value, width: rotated ? h : w, height: rotated ? w : h, ratio: Number(o.dataset.ratio), mobile: o.dataset.mobile === 'true' };
    window.OpenMiniDevDevice = Object.freeze(d);
    phone.dataset.device = d.id;
    layout();
  }

  // layout sizes the frame to the device's CSS pixels and scales it down
  // (never up) to fit the stage.
  function layout() {
    const d = window.OpenMiniDevDevice;
    const border = parseFloat(getComputedStyle(phone).borderTopWidth) || 0;
    const outerW = d.width + 2 * border;
    const outerH = d.height + 2 * border;
    const cs = getComputedStyle(stage);
    const availW = stage.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
    const availH = stage.clientHeight - parseFloat(cs.paddingTop) - parseFloat(cs.paddingBottom);
    const scale = Math.max(0.1, Math.min(1, availW / outerW, availH / outerH));
    phone.style.width = d.width + 'px';
    phone.style.height = d.height + 'px';
    phone.style.transform = 'scale(' + scale + ')';
    holder.style.width = outerW * scale + 'px';
    holder.style.height = outerH * scale + 'px';
    body.dataset.scale = scale.toFixed(3);
  }

  select.addEventListener('change', () => {
    setDevice();
    const u = new URL(location.href);
    u.searchParams.set('device', select.value);
    history.replaceState(null, '', u);
    reload(null);
  });
  $('#dv-rotate').addEventListener('click', () => { rotated = !rotated; setDevice(); });
  $('#dv-reload').addEventListener('click', () => reload(null));
  window.addEventListener('resize', layout);

  // ---------------------------------------------------------------- route
  // The shell keeps its address at /app/{appId}/{route}?{query}; the part
  // after the prefix is the page shown, kept in this page's fragment so
  // reloading the simulator itself opens it again.
  function shellPath() {
    try {
      const l = frame.contentWindow.location;
      return l.pathname + l.search;
    } catch { return ''; }
  }

  function trackRoute() {
    const p = shellPath();
    if (!p.startsWith(prefix)) return;
    const route = p.slice(prefix.length);
    $('#dv-route').textContent = '/' + route;
    const hash = route ? '#' + route : '';
    if (location.hash !== hash) history.replaceState(null, '', location.pathname + location.search + hash);
  }
  setInterval(trackRoute, 300);

  // reload opens the shell again on the page it shows, or on the entry
  // page when that page left the manifest (or the shell left the app).
  function reload(st) {
    let p = shellPath();
    if (!p.startsWith(prefix)) p = prefix;
    const route = p.slice(prefix.length).split('?')[0].replace(/\.html?$/, '');
    if (st && st.valid && route && !st.pages.some((pg) => pg.replace(/\.html?$/, '') === route)) p = prefix;
    try { frame.contentWindow.location.replace(p); } catch { frame.src = p; }
    reloads++;
    body.dataset.reloads = String(reloads);
  }

  // ---------------------------------------------------------------- state
  function render(st) {
    $('#dv-name').textContent = st.name || appId;
    const box = $('#dv-problems');
    box.hidden = st.valid && st.warnings.length === 0;
    box.dataset.valid = String(st.valid);
    $('#dv-problems-title').textContent = st.valid ? S.warnings : S.problems;
    $('#dv-problems-hint').hidden = st.valid;
    const item = (cls, p) => {
      const li = document.createElement('li');
      li.className = cls;
      const code = document.createElement('code');
      code.textContent = p.file || S.project;
      li.append(code, ' ' + p.message);
      return li;
    };
    $('#dv-problem-list').replaceChildren(...st.errors.map((p) => item('dv-error', p)), ...st.warnings.map((p) => item('dv-warning', p)));
    body.dataset.valid = String(st.valid);
    body.dataset.seq = st.boot + '-' + st.seq;
    layout();
  }

  function connect() {
    const es = new EventSource('/_dev/events');
    const onState = (e) => {
      let st;
      try { st = JSON.parse(e.data); } catch { return; }
      render(st);
      if (e.type === 'change' || st.boot !== known.boot || st.seq !== known.seq) reload(st);
      known = st;
    };
    es.addEventListener('state', onState);
    es.addEventListener('change', onState);
    es.addEventListener('open', () => { status.dataset.state = 'connected'; status.textContent = S.connected; });
    es.addEventListener('error', () => { status.dataset.state = 'disconnected'; status.textContent = S.disconnected; });
  }

  // ---------------------------------------------------------------- boot
  const params = new URLSearchParams(location.search);
  if (params.get('device') && [...select.options].some((o) => o.value === params.get('device'))) select.value = params.get('device');
  setDevice();
  render(known);
  const start = location.hash.length > 1 ? prefix + decodeURI(location.hash.slice(1)).replace(/^\/+/, '') : prefix;
  frame.src = start;
  connect();
})();
