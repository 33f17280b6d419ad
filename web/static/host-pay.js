// OpenMini host: payments. Adds openmini.tradePay({orderId}) to the host
// (through OpenMiniHost.register): the payment sheet over the mini program
// shows the merchant, the items, the amount, the coupon the platform
// applies, what the wallet pays and the balance, and asks for the
// payment PIN (set on first use, typed twice). Loaded after host.js on
// every host page. See docs/payments.md for the results and error codes.
'use strict';
(function () {
  const H = window.OpenMiniHost;
  if (!H) return;
  const { T, fail, toast } = H;

  // post sends JSON to a /host/api/pay endpoint; a failure keeps the
  // server's code, reason and Retry-After.
  async function post(url, body) {
    let res;
    try {
      res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: JSON.stringify(body) });
    } catch (e) {
      fail('unavailable', T('No connection. Check your network and try again.'));
    }
    const out = await res.json().catch(() => ({}));
    if (!res.ok) {
      const e = out.error || {};
      const err = new H.SDKError(e.code || 'unavailable', e.message || 'request failed (' + res.status + ')');
      err.reason = e.reason || '';
      err.retryAfter = e.retry_after || 0;
      throw err;
    }
    return out;
  }

  // The error codes tradePay rejects with, by the server's reason.
  const CODES = {
    insufficient_funds: 'insufficient_funds', not_payable: 'order_not_payable', not_found: 'not_found',
    merchant_suspended: 'merchant_unavailable', not_linked: 'not_linked', pin_locked: 'pin_locked', invalid: 'invalid',
  };
  const sdkError = (err) => new H.SDKError(CODES[err.reason] || err.code || 'unavailable', err.message);

  // signInFirst asks an anonymous user to sign in; on yes the browser goes
  // to the sign-in page and comes back to the same mini program page.
  async function signInFirst(inst) {
    const ok = await H.sheet({
      title: T('Sign in to pay'),
      body: T('Paying needs your OpenMini wallet. Sign in or create an account; you will come back here.'),
      confirm: T('Sign in'), cancel: T('Not now'), kind: 'signin',
    });
    if (!ok) fail('cancelled', 'the user did not sign in');
    const back = new URL(location.href);
    if (!back.pathname.startsWith('/app/')) back.pathname = '/app/' + inst.l.appId + '/' + inst.l.path;
    location.assign('/me/signin?next=' + encodeURIComponent(back.pathname + back.search));
    fail('cancelled', 'the user left to sign in');
  }

  const el = (tag, attrs, ...kids) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? '' : v);
    }
    for (const kid of kids.flat()) if (kid !== null && kid !== undefined && kid !== false) e.append(kid);
    return e;
  };

  function ensureCSS(href) {
    if (href && !document.querySelector('link[data-om-pay]')) document.head.append(el('link', { rel: 'stylesheet', href, 'data-om-pay': '' }));
  }

  const pinInput = (name, label) => el('label', {}, label,
    el('input', { name, type: 'password', inputmode: 'numeric', pattern: '[0-9]{6}', maxlength: '6', autocomplete: 'off', required: true }));

  // paySheet shows the sheet of sh and settles with the payment result:
  // resolve(TradeResult) once paid, reject(SDKError) on cancel or a
  // failure the user cannot fix here.
  function paySheet(appId, orderId, first) {
    return new Promise((resolve, reject) => {
      let sh = first;
      let busy = false;
      const layer = el('div', { class: 'om-pay-layer', role: 'dialog', 'aria-modal': 'true', 'data-kind': 'pay' });
      const close = (err) => { layer.remove(); document.removeEventListener('keydown', onKey); if (err) reject(err); };
      const cancel = () => {
        if (busy) return;
        close(sh && !sh.sufficient ? new H.SDKError('insufficient_funds', T('Your wallet balance is too low for this payment.')) : new H.SDKError('cancelled', 'the user cancelled the payment'));
      };
      const onKey = (e) => { if (e.key === 'Escape') cancel(); };
      layer.addEventListener('click', (e) => { if (e.target === layer) cancel(); });
      document.addEventListener('keydown', onKey);

      function render(message) {
        const d = sh.display;
        const lines = el('dl', { class: 'om-sheet-lines' },
          sh.items.map((it) => el('div', { class: 'om-item' }, el('dt', {}, it.count + ' × ' + it.name), el('dd', {}, it.total))),
          el('div', {}, el('dt', {}, T('Amount')), el('dd', { class: 'om-pay-amount' }, d.amount)),
          sh.discount > 0 ? el('div', { class: 'om-coupon' }, el('dt', {}, T('Coupon') + (sh.campaign_name ? ' · ' + sh.campaign_name : '')), el('dd', { class: 'om-pay-discount' }, '-' + d.discount)) : null,
          el('div', { class: 'om-muted' }, el('dt', {}, T('Wallet balance')), el('dd', { class: 'om-pay-balance' }, d.balance)));
        const msg = el('p', { class: 'om-pay-msg', role: 'alert' }, message || '');
        const form = el('form', { class: 'om-pay-form', novalidate: true });
        if (!sh.sufficient) {
          form.append(el('p', { class: 'om-pay-msg om-pay-short' }, T('Your wallet balance is too low for this payment.')),
            el('a', { href: sh.wallet_url, target: '_blank', rel: 'noopener' }, T('Top up in the wallet (opens a new tab)')),
            el('button', { type: 'submit', class: 'om-pay-go om-pay-recheck' }, T('Check the balance again')));
        } else if (sh.pin_set) {
          form.append(pinInput('pin', T('Payment PIN')), el('button', { type: 'submit', class: 'om-pay-go' }, T('Pay %s', d.user_pays)));
        } else {
          form.append(el('p', { class: 'om-hint' }, T('Set a 6-digit payment PIN now. You will type it to confirm every payment.')),
            pinInput('pin', T('New PIN (6 digits)')), pinInput('confirm', T('New PIN again')),
            el('button', { type: 'submit', class: 'om-pay-go' }, T('Set the PIN and pay %s', d.user_pays)));
        }
        form.addEventListener('submit', (e) => { e.preventDefault(); submit(form, msg); });
        const box = el('div', { class: 'om-pay-sheet' },
          el('div', { class: 'om-pay-head' }, el('h2', { class: 'om-pay-merchant' }, sh.merchant_name),
            el('button', { type: 'button', class: 'om-pay-x', 'aria-label': T('Cancel'), onclick: cancel }, '×')),
          el('p', { class: 'om-pay-total' }, d.user_pays), lines, msg, form);
        layer.replaceChildren(box);
        const first = form.querySelector('input');
        if (first) setTimeout(() => first.focus(), 0);
      }

      async function requote(message) {
        sh = await post('/host/api/pay/quote', { order_id: orderId, app: appId });
        render(message);
      }

      async function submit(form, msg) {
        if (busy) return;
        const say = (text) => { msg.textContent = text; };
        if (!sh.sufficient) {
          busy = true;
          try { await requote(); } catch (err) { busy = false; close(sdkError(err)); return; }
          busy = false;
          return;
        }
        const pin = form.elements.pin.value.trim();
        if (!/^[0-9]{6}$/.test(pin)) { say(T('The PIN is six digits.')); return; }
        if (!sh.pin_set && pin !== form.elements.confirm.value.trim()) { say(T('The two PINs differ; type the same six digits twice.')); return; }
        busy = true;
        form.querySelectorAll('button, input').forEach((b) => { b.disabled = true; });
        try {
          if (!sh.pin_set) {
            await post('/host/api/pay/pin', { pin });
            sh.pin_set = true;
          }
          const out = await post('/host/api/pay/pay', { order_id: orderId, app: appId, pin, campaign_id: sh.campaign_id || 0 });
          busy = false;
          close();
          toast(T('Paid %s', sh.display.user_pays), 'success', 2000);
          resolve(out);
          return;
        } catch (err) {
          busy = false;
          form.querySelectorAll('button, input').forEach((b) => { b.disabled = false; });
          switch (err.reason) {
            case 'wrong_pin':
              form.elements.pin.value = '';
              say(T('Wrong PIN. Try again.'));
              form.elements.pin.focus();
              return;
            case 'pin_locked':
            case 'invalid':
              say(err.message);
              return;
            case 'pin_not_set':
              sh.pin_set = false;
              render(err.message);
              return;
            case 'coupon_unavailable':
            case 'insufficient_funds':
              try { await requote(err.message); } catch (e2) { close(sdkError(e2)); }
              return;
          }
          close(sdkError(err));
        }
      }

      render('');
      document.body.append(layer);
    });
  }

  // tradePay({orderId}) -> {status: 'paid', orderId, amount, discount,
  // userPaid, currency, paidAt, order}. Errors: cancelled,
  // insufficient_funds, order_not_payable (closed, expired or paid),
  // not_found, merchant_unavailable, not_linked (the order's merchant has
  // not linked this mini program), pin_locked, invalid, unavailable.
  H.register('tradePay', async (inst, page, p) => {
    const orderId = p.orderId || p.order_id;
    if (typeof orderId !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(orderId)) fail('invalid', 'tradePay: orderId must be the id of an order your server created (ord_...)');
    let sh;
    try {
      sh = await post('/host/api/pay/quote', { order_id: orderId, app: inst.l.appId });
    } catch (err) {
      if (err.reason === 'sign_in') await signInFirst(inst);
      throw sdkError(err);
    }
    ensureCSS(sh.css);
    return paySheet(inst.l.appId, orderId, sh);
  });
})();
