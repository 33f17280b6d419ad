// Counts visits in the per-user storage the host keeps for this mini program.
(async function () {
  const sdk = window.app.sdk;
  let visits = 1;
  if (sdk) {
    const saved = await sdk.getStorage({ key: 'visits' }).catch(() => null);
    visits = (saved && Number(saved.data)) + 1 || 1;
    await sdk.setStorage({ key: 'visits', data: visits });
  }
  document.getElementById('visits').textContent = String(visits);
  document.getElementById('hello').addEventListener('click', () => window.app.toast('Hello!'));
})();
