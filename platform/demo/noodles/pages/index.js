Page({
  async onLoad(query) {
    const n = window.noodles;
    if (query.table) await openmini.setStorage({ key: 'table', data: { table: query.table, store: query.store || '' } });
    const t = await n.table();
    if (t) { const el = document.getElementById('table'); el.hidden = false; el.textContent = 'Table ' + t.table + ' 桌号 ' + t.table; }
    let cart = await n.cart();
    const show = () => {
      document.getElementById('count').textContent = n.count(cart);
      document.getElementById('total').textContent = n.yuan(n.total(cart));
    };
    const menu = document.getElementById('menu');
    for (const d of n.menu) {
      const row = document.createElement('div');
      row.className = 'dish';
      row.innerHTML = '<div><b></b><small></small></div><div><span class="price"></span><button>+</button></div>';
      row.querySelector('b').textContent = d.name;
      row.querySelector('small').textContent = d.zh;
      row.querySelector('.price').textContent = n.yuan(d.cents);
      row.querySelector('button').dataset.dish = d.id;
      row.querySelector('button').addEventListener('click', async () => {
        cart[d.id] = (cart[d.id] || 0) + 1;
        await n.saveCart(cart);
        show();
        openmini.showToast({ title: d.name + ' +1' });
      });
      menu.appendChild(row);
    }
    show();
    document.getElementById('go').addEventListener('click', () => openmini.navigateTo({ url: '/pages/cart' }));
  },
  async onShow() {
    // Coming back from the order page: the cart may have changed.
    const n = window.noodles;
    const cart = await n.cart();
    document.getElementById('count').textContent = n.count(cart);
    document.getElementById('total').textContent = n.yuan(n.total(cart));
  },
});
