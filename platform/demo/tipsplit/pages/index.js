Page({
  async onLoad() {
    const $ = (id) => document.getElementById(id);
    const saved = await openmini.getStorage({ key: 'last' }).catch(() => null);
    if (saved && saved.data) { $('bill').value = saved.data.bill; $('people').value = saved.data.people; $('tip').value = saved.data.tip; }
    // Work in cents so no share is ever off by a floating-point cent.
    const calc = () => {
      const cents = Math.round(Number($('bill').value || 0) * 100);
      const people = Math.max(1, Math.floor(Number($('people').value || 1)));
      const tip = Math.max(0, Math.min(50, Number($('tip').value || 0)));
      const total = cents + Math.round(cents * tip / 100);
      const each = Math.ceil(total / people);
      $('each').textContent = '¥' + (each / 100).toFixed(2);
      openmini.setStorage({ key: 'last', data: { bill: $('bill').value, people, tip } });
      return each;
    };
    ['bill', 'people', 'tip'].forEach((id) => $(id).addEventListener('input', calc));
    calc();
    $('copy').addEventListener('click', () => openmini.setClipboardData({ data: 'Each pays ' + $('each').textContent + ' 每人 ' + $('each').textContent }));
    $('paste').addEventListener('click', async () => {
      try {
        const r = await openmini.getClipboardData();
        const n = parseFloat(String(r.data).replace(/[^0-9.]/g, ''));
        if (n > 0) { $('bill').value = n; calc(); } else openmini.showToast({ title: 'No amount on the clipboard' });
      } catch (e) { openmini.showToast({ title: e.message }); }
    });
  },
});
