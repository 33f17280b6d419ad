// Every page: lifecycle callbacks log; a counter keeps in-page state (to
// prove switching returns to the same state).
Page({
  onLoad: function (q) { omlog('page.load', q); },
  onReady: function () { omlog('page.ready'); },
  onShow: function () { omlog('page.show'); },
  onHide: function () { omlog('page.hide'); },
  onUnload: function () {
    omlog('page.unload');
    // A closing page may still save its state.
    openmini.setStorage({ key: 'unloaded', data: location.pathname.split('/').pop() });
  },
});
window.counter = 0;
document.getElementById('inc').addEventListener('click', function () {
  window.counter++;
  document.getElementById('counter').textContent = String(window.counter);
});
