// OpenMini host: identity. Adds openmini.getAuthCode and
// openmini.getLaunchData to the host (through OpenMiniHost.register) and
// fills the "Me" tab. Loaded after host.js on every host page.
'use strict';
(function () {
  const H = window.OpenMiniHost;
  if (!H) return;
  const { T, fail, sheet, api } = H;

  // Scopes a mini program may ask for, and the manifest permission
  // (req_permissions) that must declare each with a reason.
  const SCOPE_PERMISSION = { profile: 'userinfo', phone: 'phonenumber', email: 'email', location: 'location' };
  const scopeLabel = (sc) => ({
    profile: T('your nickname and avatar'),
    phone: T('your phone number'),
    email: T('your e-mail address'),
    location: T('your location'),
  })[sc] || sc;
  // canonical matches host.js: W3C "system.x" and WeChat "scope.x" names.
  const canonical = (n) => {
    n = String(n || '').toLowerCase().replace(/^system\./, '').replace(/^scope\./, '');
    return ({ userlocation: 'location', geolocation: 'location', profile: 'userinfo', phone: 'phonenumber', mail: 'email' })[n] || n;
  };

  // signInFirst asks an anonymous user to sign in; on yes the browser goes
  // to the sign-in page and comes back to the same mini program page.
  async function signInFirst(inst) {
    const ok = await sheet({
      title: T('Sign in to continue'),
      body: T('%s wants to know who you are. Sign in or create an account; you will come back here.', inst.l.name),
      confirm: T('Sign in'), cancel: T('Not now'), kind: 'signin',
    });
    if (!ok) fail('cancelled', 'the user did not sign in');
    const back = new URL(location.href);
    if (!back.pathname.startsWith('/app/')) back.pathname = '/app/' + inst.l.appId + '/' + inst.l.path;
    if (inst.l.scene && !back.searchParams.has('om_scene')) back.searchParams.set('om_scene', inst.l.scene);
    location.assign('/me/signin?next=' + encodeURIComponent(back.pathname + back.search));
    fail('cancelled', 'the user left to sign in');
  }

  // call posts to a host endpoint, asking anonymous users to sign in first.
  async function call(inst, url, body) {
    try {
      return await api(url, body);
    } catch (err) {
      if (err && err.code === 'unauthorized') await signInFirst(inst);
      throw err;
    }
  }

  // getAuthCode({scopes, nonce}) -> {code}: a one-time code the mini
  // program's server exchanges at /oauth/token. The base scope is silent;
  // other scopes need the user's consent on a sheet naming the app and the
  // reasons its manifest gives.
  H.register('getAuthCode', async (inst, page, p) => {
    const scopes = p.scopes === undefined ? [] : p.scopes;
    if (!Array.isArray(scopes) || scopes.length > 10 || scopes.some((s) => typeof s !== 'string')) fail('invalid', 'scopes must be an array of scope names');
    if (p.nonce !== undefined && (typeof p.nonce !== 'string' || p.nonce.length > 200)) fail('invalid', 'nonce must be a string of at most 200 characters');
    const reasons = {};
    for (const sc of scopes) {
      if (sc === 'openid') continue;
      if (!SCOPE_PERMISSION[sc]) fail('invalid', 'scope "' + sc + '" is not one of openid, profile, phone, email, location');
      const decl = inst.l.permissions.find((d) => canonical(d.name) === SCOPE_PERMISSION[sc]);
      if (!decl) fail('not_declared', 'the manifest does not declare the "' + sc + '" scope in req_permissions (as "' + SCOPE_PERMISSION[sc] + '")');
      reasons[sc] = decl.reason || '';
    }
    const req = { app: inst.l.appId, scopes, nonce: p.nonce || undefined };
    let out = await call(inst, '/host/api/auth-code', req);
    if (out.consent && out.consent.length) {
      const lines = out.consent.map((sc) => '• ' + scopeLabel(sc) + (reasons[sc] ? ' — ' + reasons[sc] : ''));
      const ok = await sheet({
        title: T('%s would like to know', inst.l.name),
        body: lines.join('\n') + '\n\n' + T('By %s. You can remove this access at any time under Me › Authorised mini programs.', inst.l.developer),
        confirm: T('Allow'), cancel: T('Deny'), kind: 'auth-consent',
      });
      if (!ok) fail('denied', 'the user did not allow ' + out.consent.join(', '));
      req.grant = out.consent.map((sc) => ({ scope: sc, reason: reasons[sc] || '' }));
      out = await call(inst, '/host/api/auth-code', req);
    }
    if (!out.code) fail('denied', 'no code was issued');
    return { code: out.code };
  });

  // getLaunchData() -> {token}: this launch (app, user, scene, query,
  // page) signed by the platform, for the mini program's server to verify
  // offline with the JWKS. It names the user, so it needs a signed-in one.
  H.register('getLaunchData', async (inst) => {
    const l = inst.l;
    const out = await call(inst, '/host/api/launch-data', { app: l.appId, path: l.path, query: l.query || {}, scene: l.scene });
    return { token: out.token };
  });

  // ------------------------------------------------------------ "Me" tab
  const el = (tag, attrs, ...kids) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    for (const kid of kids) if (kid !== null && kid !== undefined) e.append(kid);
    return e;
  };

  function meView() {
    let v = document.getElementById('om-me');
    if (v) return v;
    v = el('section', { id: 'om-me', class: 'om-view om-me', hidden: '' });
    const tabs = document.getElementById('om-tabs');
    tabs.parentNode.insertBefore(v, tabs);
    return v;
  }

  async function renderMe() {
    const v = meView();
    let me = { signed_in: false };
    try {
      const res = await fetch('/host/api/me', { headers: { Accept: 'application/json' }, cache: 'no-store' });
      if (res.ok) me = await res.json();
    } catch (e) { /* offline: show the signed-out view */ }
    if (me.css && !document.querySelector('link[data-om-identity]')) {
      document.head.append(el('link', { rel: 'stylesheet', href: me.css, 'data-om-identity': '' }));
    }
    const main = el('div', { class: 'om-user-main' });
    if (me.signed_in) {
      const avatar = me.avatar ? el('img', { class: 'om-avatar', src: me.avatar, alt: '', width: '72', height: '72' })
        : el('div', { class: 'om-avatar om-avatar-ph', 'aria-hidden': 'true' }, Array.from(me.name || '?')[0]);
      main.append(
        el('section', { class: 'om-card om-profile' }, avatar,
          el('div', { class: 'om-who-box' }, el('strong', { class: 'om-me-name' }, me.name || ''), el('span', {}, me.login || ''))),
        el('nav', { class: 'om-menu' },
          el('a', { href: '/me' }, T('Profile')),
          el('a', { href: '/me/apps' }, T('Authorised mini programs'))),
        el('form', { method: 'post', action: '/me/signout', class: 'om-plain' }, el('button', { type: 'submit', class: 'om-secondary' }, T('Sign out'))));
    } else {
      main.append(
        el('p', { class: 'om-hint' }, T('Sign in to keep your mini programs\' data on every device and to let mini programs know who you are.')),
        el('div', { class: 'om-actions-col' },
          el('a', { class: 'om-button', href: '/me/signin' }, T('Sign in')),
          el('a', { class: 'om-button om-secondary', href: '/me/signup' }, T('Create an account'))));
    }
    v.replaceChildren(el('header', { class: 'om-top' }, el('a', { class: 'om-brand', href: '/' }, T('OpenMini'))), main);
  }

  document.addEventListener('click', (e) => {
    const a = e.target.closest && e.target.closest('a[data-tab="om-me"]');
    if (a) renderMe();
  });
  meView();
})();
