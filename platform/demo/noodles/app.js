// Noodle Bar: the cart and the table number live in the host's per-user
// storage, so they survive moving between pages and mini programs.
App({
  onLaunch(options) {
    if (options && options.query && options.query.table) {
      openmini.setStorage({ key: 'table', data: { table: options.query.table, store: options.query.store || '' } });
    }
  },
});
window.noodles = {
  menu: [
    { id: 'beef', name: 'Beef noodle soup', zh: '兰州牛肉面', cents: 2800 },
    { id: 'dan', name: 'Dan dan noodles', zh: '担担面', cents: 2200 },
    { id: 'zha', name: 'Zha jiang mian', zh: '炸酱面', cents: 2400 },
    { id: 'dumpling', name: 'Pork dumplings (8)', zh: '猪肉水饺（8只）', cents: 1800 },
    { id: 'cucumber', name: 'Smashed cucumber', zh: '拍黄瓜', cents: 900 },
    { id: 'tea', name: 'Jasmine tea', zh: '茉莉花茶', cents: 600 },
  ],
  yuan(cents) { return '¥' + (cents / 100).toFixed(2); },
  async cart() { const r = await openmini.getStorage({ key: 'cart' }).catch(() => null); return (r && r.data) || {}; },
  saveCart(c) { return openmini.setStorage({ key: 'cart', data: c }); },
  async table() { const r = await openmini.getStorage({ key: 'table' }).catch(() => null); return r && r.data; },
  total(cart) { return this.menu.reduce((s, d) => s + (cart[d.id] || 0) * d.cents, 0); },
  count(cart) { return Object.values(cart).reduce((a, b) => a + b, 0); },
};
