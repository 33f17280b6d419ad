// Shared helpers for the game. The `openmini` SDK is a global inside the
// host; in a plain browser tab the game still runs with localStorage.
window.game = {
  sdk: typeof openmini !== 'undefined' ? openmini : null,
  async best() {
    if (this.sdk) {
      const r = await this.sdk.getStorage({ key: 'best' }).catch(() => null);
      return Number(r && r.data) || 0;
    }
    return Number(localStorage.getItem('best')) || 0;
  },
  async saveBest(score) {
    if (this.sdk) return this.sdk.setStorage({ key: 'best', data: score });
    localStorage.setItem('best', String(score));
  },
  toast(title) {
    if (this.sdk) return this.sdk.showToast({ title });
    console.log('[toast]', title);
  },
};
