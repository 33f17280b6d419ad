// OpenMini host: discovery. Keeps the home view (search with suggestions,
// recommendations, channels, recent) and "my mini programs" (recent and
// favourites) fresh, implements the capsule menu's "Add to favourites"
// (OpenMiniHost.hook('favourite')), and reports how long each launch stays
// in the foreground. The views' HTML is rendered by the server
// (templates/host_discovery.tmpl); this script fetches the same fragments
// from /host/api/discovery/. Loaded after host.js on every host page.
'use strict';
(function () {
  const H = window.OpenMiniHost;
  if (!H) return;
  const { T, api, toast } = H;

  // The user's time zone: the server counts habits ("you often use it in
  // the morning") by local time.
  try {
    const tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (tz && /^[A-Za-z0-9_+\-/]{1,64}$/.test(tz) && !document.cookie.split('; ').includes('om_tz=' + tz)) {
      document.cookie = 'om_tz=' + tz + '; path=/; max-age=31536000; samesite=lax';
    }
  } catch { /* no Intl: UTC */ }

  async function get(url) {
    const res = await fetch(url, { headers: { Accept: 'application/json' } });
    const out = await res.json().catch(() => ({}));
    if (!res.ok) H.fail(out.error ? out.error.code : 'unavailable', out.error ? out.error.message : 'request failed (' + res.status + ')');
    return out;
  }

  // ------------------------------------------------------------ hidden
  // Recommendations an anonymous user hid stay hidden on this device.
  const HIDDEN = 'omd-hidden';
  const hiddenHere = () => { try { return JSON.parse(localStorage.getItem(HIDDEN) || '[]'); } catch { return []; } };
  function hideHere(id) {
    const list = hiddenHere().filter((x) => x !== id);
    list.unshift(id);
    try { localStorage.setItem(HIDDEN, JSON.stringify(list.slice(0, 200))); } catch { /* full */ }
  }

  // ------------------------------------------------------------ location
  // Nearby recommendations use the position only after the user asked for
  // them once; the browser keeps the permission, we keep the wish.
  const NEARBY = 'omd-nearby';
  let position = null; // {lat, lng} rounded to about 100 m
  function locate(ask) {
    return new Promise((resolve) => {
      if (!navigator.geolocation) { resolve(null); return; }
      navigator.geolocation.getCurrentPosition((p) => {
        position = { lat: p.coords.latitude.toFixed(3), lng: p.coords.longitude.toFixed(3) };
        try { localStorage.setItem(NEARBY, '1'); } catch { /* private mode */ }
        resolve(position);
      }, () => {
        if (ask) toast(T('Location is off, so nothing nearby can be shown.'), '', 2500);
        resolve(null);
      }, { maximumAge: 600000, timeout: 15000 });
    });
  }
  async function locateIfAllowed() {
    if (position || !navigator.geolocation || !navigator.permissions) return position;
    let wanted = false;
    try { wanted = localStorage.getItem(NEARBY) === '1'; } catch { /* private mode */ }
    if (!wanted) return null;
    try {
      const st = await navigator.permissions.query({ name: 'geolocation' });
      if (st.state === 'granted') return locate(false);
    } catch { /* no Permissions API */ }
    return null;
  }

  // ------------------------------------------------------------ home
  const homeBox = () => document.getElementById('om-home-body');
  const myBox = () => document.getElementById('om-my-body');
  let homeStale = false; // a mini program was opened since the home was drawn
  let myStale = false;

  // refresh replaces a view's body with the server's fragment; the body
  // carries data-loading while a request is under way.
  async function refresh(box, url) {
    box.dataset.loading = '1';
    try {
      const out = await get(url);
      box.innerHTML = out.html;
      return true;
    } catch (err) {
      toast(T(err.message), 'error', 3000);
      return false;
    } finally {
      delete box.dataset.loading;
    }
  }

  async function loadHome(q) {
    const box = homeBox();
    if (!box) return;
    const params = new URLSearchParams();
    if (q) params.set('q', q);
    else if (position) { params.set('lat', position.lat); params.set('lng', position.lng); }
    homeStale = false;
    // Someone typing into the search box while it is drawn again keeps
    // their text, focus and caret.
    const old = box.querySelector('.omd-search input[name="q"]');
    const typing = old && document.activeElement === old ? { v: old.value, s: old.selectionStart, e: old.selectionEnd } : null;
    if (!(await refresh(box, '/host/api/discovery/home?' + params))) return;
    wireHome();
    const input = typing && box.querySelector('.omd-search input[name="q"]');
    if (input) {
      input.value = typing.v;
      input.focus();
      input.setSelectionRange(typing.s, typing.e);
    }
  }

  async function loadMy() {
    const box = myBox();
    if (!box) return;
    myStale = false;
    await refresh(box, '/host/api/discovery/my');
  }

  // setSearchURL keeps the address bar's ?q= in step with the home view.
  function setSearchURL(q) {
    if (location.pathname !== '/') return;
    history.replaceState(history.state, '', q ? '/?q=' + encodeURIComponent(q) : '/');
  }

  // wireHome connects the home view's search box, hide buttons and the
  // nearby button after it was (re)drawn.
  function wireHome() {
    const box = homeBox();
    if (!box) return;
    for (const id of hiddenHere()) {
      const li = box.querySelector('.omd-rec[data-app="' + CSS.escape(id) + '"]');
      if (li) li.remove();
    }
    const near = box.querySelector('[data-nearby]');
    if (near && navigator.geolocation) near.hidden = false;
    const form = box.querySelector('.omd-search');
    if (!form || form.dataset.wired) return;
    form.dataset.wired = '1';
    const input = form.elements.q;
    const list = form.querySelector('.omd-suggest');
    let timer = 0;
    let seq = 0;
    const close = () => { list.hidden = true; list.replaceChildren(); input.removeAttribute('aria-activedescendant'); };
    async function suggest() {
      const q = input.value.trim();
      const mine = ++seq;
      if (!q) { close(); return; }
      let out;
      try { out = await get('/host/api/discovery/suggest?q=' + encodeURIComponent(q)); } catch { return; }
      if (mine !== seq || document.activeElement !== input) return;
      const apps = out.apps || [];
      list.replaceChildren(...apps.map((a, i) => {
        const li = document.createElement('li');
        li.setAttribute('role', 'option');
        li.id = 'omd-s' + i;
        const link = document.createElement('a');
        link.href = '/app/' + encodeURIComponent(a.app_id) + '/?om_scene=search';
        link.dataset.open = 'search';
        link.dataset.app = a.app_id;
        if (a.icon_url) {
          const img = document.createElement('img');
          img.src = a.icon_url; img.alt = ''; img.width = 28; img.height = 28;
          link.append(img);
        } else {
          const ph = document.createElement('span');
          ph.className = 'om-icon-ph omd-ph';
          ph.textContent = a.name;
          link.append(ph);
        }
        const name = document.createElement('span');
        name.textContent = a.name;
        link.append(name);
        li.append(link);
        return li;
      }));
      list.hidden = apps.length === 0;
    }
    input.addEventListener('input', (e) => {
      if (e.isComposing) return; // a Chinese IME is still composing
      clearTimeout(timer);
      timer = setTimeout(suggest, 120);
    });
    input.addEventListener('compositionend', () => { clearTimeout(timer); timer = setTimeout(suggest, 60); });
    input.addEventListener('blur', () => setTimeout(close, 200));
    input.addEventListener('keydown', (e) => {
      const items = [...list.querySelectorAll('a')];
      if (list.hidden || !items.length || (e.key !== 'ArrowDown' && e.key !== 'ArrowUp')) return;
      e.preventDefault();
      let i = items.findIndex((a) => a.getAttribute('aria-selected') === 'true');
      i = e.key === 'ArrowDown' ? (i + 1) % items.length : (i <= 0 ? items.length - 1 : i - 1);
      items.forEach((a, n) => a.setAttribute('aria-selected', n === i ? 'true' : 'false'));
      input.setAttribute('aria-activedescendant', 'omd-s' + i);
    });
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const sel = list.querySelector('a[aria-selected="true"]');
      if (sel) { close(); H.openLink(sel.href, 'search'); return; }
      const q = input.value.trim();
      close();
      setSearchURL(q);
      loadHome(q);
    });
  }

  document.addEventListener('click', (e) => {
    const t = e.target.closest && e.target.closest('[data-hide], [data-nearby], [data-omd-clear], [data-favourite], [data-forget]');
    if (!t || e.defaultPrevented) return;
    if (t.dataset.omdClear !== undefined) {
      e.preventDefault();
      setSearchURL('');
      loadHome('');
    } else if (t.dataset.nearby !== undefined) {
      t.disabled = true;
      locate(true).then((p) => { t.disabled = false; if (p) loadHome(''); });
    } else if (t.dataset.hide) {
      const id = t.dataset.hide;
      const li = t.closest('li');
      api('/host/api/discovery/hide', { app: id }).catch((err) => {
        if (err.code !== 'unauthorized') throw err;
        hideHere(id); // anonymous: remembered on this device
      }).then(() => {
        if (li) li.remove();
        toast(T('You will not see it in your recommendations again.'), 'success', 2500);
      }, (err) => toast(T(err.message), 'error', 3000));
    } else if (t.dataset.favourite) {
      const on = t.dataset.on !== '1';
      api('/host/api/discovery/favourite', { app: t.dataset.favourite, favourite: on })
        .then(() => { toast(on ? T('Added to favourites') : T('Removed from favourites'), 'success'); return loadMy(); },
          (err) => toast(T(err.message), 'error', 3000));
    } else if (t.dataset.forget) {
      const li = t.closest('li');
      api('/host/api/discovery/recent/remove', { app: t.dataset.forget })
        .then(() => { if (li) li.remove(); }, (err) => toast(T(err.message), 'error', 3000));
    }
  });

  // A view shown again gets fresh lists when something changed (or when it
  // was never drawn, as after a cold launch).
  document.addEventListener('openmini:view', (e) => {
    const view = e.detail && e.detail.view;
    if (view === 'om-home') {
      const box = homeBox();
      if (box && (homeStale || box.querySelector('[data-pending]'))) {
        locateIfAllowed().then(() => loadHome(new URLSearchParams(location.search).get('q') || ''));
      }
    } else if (view === 'om-my') {
      const box = myBox();
      if (box && (myStale || box.querySelector('[data-pending]'))) loadMy();
    }
  });

  // ------------------------------------------------------------ favourites
  H.hook('favourite', async (inst) => {
    try {
      await api('/host/api/discovery/favourite', { app: inst.l.appId, favourite: true });
    } catch (err) {
      if (err.code === 'unauthorized') throw new Error(T('Sign in to keep favourites'));
      throw new Error(T(err.message));
    }
    myStale = true;
    toast(T('Added to favourites'), 'success');
  });

  // ------------------------------------------------------------ sessions
  // Foreground time of each launch: from when its mini program is shown
  // until it is hidden, the tab goes to the background or the page goes.
  let fg = null;     // {id, app, since} of the launch on screen
  let paused = null; // the launch on screen when the tab went to the background
  function report(id, ms) {
    if (!id || ms < 500) return;
    const body = JSON.stringify({ launch: id, ms: Math.round(ms) });
    const url = '/host/api/discovery/session';
    if (navigator.sendBeacon && navigator.sendBeacon(url, new Blob([body], { type: 'application/json' }))) return;
    fetch(url, { method: 'POST', keepalive: true, headers: { 'Content-Type': 'application/json' }, body }).catch(() => {});
  }
  function end() {
    if (!fg) return null;
    const was = fg;
    fg = null;
    report(was.id, Date.now() - was.since);
    return was;
  }
  document.addEventListener('openmini:app', (e) => {
    const d = e.detail || {};
    homeStale = myStale = true;
    if (d.shown) {
      end();
      if (d.launchId) fg = { id: d.launchId, app: d.appId, since: Date.now() };
    } else if (fg && fg.app === d.appId) {
      end();
    }
  });
  document.addEventListener('visibilitychange', () => {
    if (document.hidden) {
      paused = end();
    } else if (paused) {
      if (H.current() === paused.app) fg = { id: paused.id, app: paused.app, since: Date.now() };
      paused = null;
    }
  });
  window.addEventListener('pagehide', () => { end(); });
  // This script may load after a cold launch's mini program was shown.
  const cur = H._ && H._.current && H._.current();
  if (cur && cur.l && cur.l.launchId) {
    homeStale = myStale = true;
    fg = { id: cur.l.launchId, app: cur.l.appId, since: Math.round(performance.timeOrigin || Date.now()) };
  }

  // ------------------------------------------------------------ boot
  function boot() {
    wireHome();
    const box = homeBox();
    if (box && !box.hidden && !new URLSearchParams(location.search).get('q')) {
      locateIfAllowed().then((p) => { if (p) loadHome(''); });
    }
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot); else boot();
})();
