Page({
  async onLoad() {
    const n = window.noodles;
    const cart = await n.cart();
    const t = await n.table();
    if (t) { const el = document.getElementById('table'); el.hidden = false; el.textContent = 'Table ' + t.table + ' 桌号 ' + t.table; }
    const lines = document.getElementById('lines');
    for (const d of n.menu) {
      if (!cart[d.id]) continue;
      const p = document.createElement('p');
      p.className = 'line';
      p.innerHTML = '<span></span><span></span>';
      p.firstChild.textContent = cart[d.id] + ' × ' + d.name + ' ' + d.zh;
      p.lastChild.textContent = n.yuan(cart[d.id] * d.cents);
      lines.appendChild(p);
    }
    document.getElementById('total').textContent = n.yuan(n.total(cart));
    document.getElementById('empty').hidden = n.count(cart) > 0;
    document.getElementById('clear').addEventListener('click', async () => {
      await n.saveCart({});
      openmini.navigateBack();
    });
    document.getElementById('pay').addEventListener('click', async () => {
      if (!n.count(cart)) return openmini.showToast({ title: 'Add a dish first 请先点菜' });
      try {
        await window.noodlesPay(cart, t);
        await n.saveCart({});
        openmini.redirectTo({ url: '/pages/done' });
      } catch (e) {
        if (e.code !== 'cancelled') openmini.showModal({ title: 'Payment failed 支付失败', content: e.message, showCancel: false });
      }
    });
  },
});
// Paying goes through the restaurant's own server, which creates the
// payment order; see pay.js. Without it the order is only shown.
window.noodlesPay = window.noodlesPay || (async function () {
  throw Object.assign(new Error('Payments are not set up for this restaurant yet. 该餐厅暂未开通支付。'), { code: 'unsupported' });
});
