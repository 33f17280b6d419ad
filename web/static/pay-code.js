// The wallet's payment code page: ask for a new one-time code about every
// 30 seconds while the page is on screen, and grey the code out once it
// has expired (offline, or the page was asleep).
'use strict';
(function () {
  const box = document.getElementById('pay-code');
  if (!box) return;
  const bar = document.getElementById('pay-barcode');
  const digits = document.getElementById('pay-digits');
  const qr = document.getElementById('pay-qr');
  const expiry = document.getElementById('pay-expiry');
  let expires = Date.now() + Number(box.dataset.ttl || 60) * 1000;
  const REFRESH_MS = 30000;
  let timer = 0;

  async function refresh() {
    clearTimeout(timer);
    if (document.hidden) return;
    try {
      const res = await fetch('/host/api/pay/code', { method: 'POST', headers: { Accept: 'application/json', 'Content-Type': 'application/json' }, body: '{}' });
      if (res.ok) {
        const c = await res.json();
        bar.src = c.barcode;
        digits.textContent = c.grouped;
        if (qr && c.qr) qr.src = c.qr;
        expires = Date.now() + c.ttl * 1000;
        box.classList.remove('om-stale');
        box.dataset.code = c.code;
      }
    } catch (e) { /* offline: the expiry check greys the code out */ }
    timer = setTimeout(refresh, REFRESH_MS);
  }

  setInterval(() => {
    if (Date.now() > expires && !box.classList.contains('om-stale')) {
      box.classList.add('om-stale');
      expiry.textContent = expiry.dataset.expired;
    }
  }, 1000);
  document.addEventListener('visibilitychange', () => { if (!document.hidden) refresh(); });
  timer = setTimeout(refresh, REFRESH_MS);
})();
