// Shared shop logic: the cart lives in the host's per-user storage so it
// survives switching between pages and apps.
window.shop = {
  sdk: typeof openmini !== 'undefined' ? openmini : null,
  async loadCart() {
    if (this.sdk) {
      const r = await this.sdk.getStorage({ key: 'cart' }).catch(() => null);
      return (r && r.data) || {};
    }
    return JSON.parse(localStorage.getItem('cart') || '{}');
  },
  async saveCart(cart) {
    if (this.sdk) return this.sdk.setStorage({ key: 'cart', data: cart });
    localStorage.setItem('cart', JSON.stringify(cart));
  },
  toast(title) {
    if (this.sdk) return this.sdk.showToast({ title });
    console.log('[toast]', title);
  },
  go(url) {
    if (this.sdk) return this.sdk.navigateTo({ url });
    location.href = url.replace(/^\/pages\//, '') + '.html';
  },
  price(cents) { return (cents / 100).toFixed(2); },
};
