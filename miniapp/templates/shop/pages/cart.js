(async function () {
  const shop = window.shop;
  const cart = await shop.loadCart();
  let total = 0;
  const lines = document.getElementById('lines');
  for (const p of window.PRODUCTS) {
    const n = cart[p.id];
    if (!n) continue;
    total += n * p.cents;
    const li = document.createElement('li');
    li.textContent = `${n} × ${p.name} — ¥${shop.price(n * p.cents)}`;
    lines.appendChild(li);
  }
  document.getElementById('total').textContent = '¥' + shop.price(total);
  document.getElementById('pay').addEventListener('click', async () => {
    if (!total) return shop.toast('Your cart is empty');
    if (!shop.sdk) return shop.toast('Payment works inside the OpenMini host');
    // Your server creates the payment order with the platform's API and
    // returns its ID; the host then shows its payment sheet.
    try {
      const order = await fetch('https://shop.example.com/api/orders', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ cart }),
      }).then((r) => r.json());
      await shop.sdk.tradePay({ orderId: order.id });
      await shop.saveCart({});
      shop.toast('Paid. Thank you!');
      shop.sdk.navigateBack();
    } catch (err) {
      // err.code says why (docs/sdk.md, "Error codes").
      shop.toast(err.code === 'cancelled' ? 'Payment cancelled' : 'Payment was not completed');
    }
  });
})();
