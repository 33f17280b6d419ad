// app.js runs before every page. Keep app-wide helpers here.
// The host provides the `openmini` JS SDK as a global; outside the host
// (a plain browser tab) it is undefined, so every call is guarded.
window.app = {
  sdk: typeof openmini !== 'undefined' ? openmini : null,
  toast(title) {
    if (this.sdk) return this.sdk.showToast({ title });
    console.log('[toast]', title);
    return Promise.resolve();
  },
};
