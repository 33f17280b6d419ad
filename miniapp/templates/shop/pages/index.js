(async function () {
  const shop = window.shop;
  let cart = await shop.loadCart();
  const count = () => Object.values(cart).reduce((a, b) => a + b, 0);
  const menu = document.getElementById('menu');
  for (const p of window.PRODUCTS) {
    const li = document.createElement('li');
    li.innerHTML = `<span>${p.name}</span><span><span class="price">¥${shop.price(p.cents)}</span><button>Add</button></span>`;
    li.querySelector('button').addEventListener('click', async () => {
      cart[p.id] = (cart[p.id] || 0) + 1;
      await shop.saveCart(cart);
      document.getElementById('count').textContent = count();
      shop.toast(`${p.name} added`);
    });
    menu.appendChild(li);
  }
  document.getElementById('count').textContent = count();
  document.getElementById('checkout').addEventListener('click', () => shop.go('/pages/cart'));
})();
