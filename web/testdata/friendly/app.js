// Friendly: records every lifecycle event on the console ("omlife {...}")
// so a test can check their order across pages, and keeps a per-page log
// in window.events.
window.events = [];
window.omlog = function (event, data) {
  var page = location.pathname.replace(/^\/_v\/[0-9a-f]{64}\//, '').replace(/\.html$/, '');
  window.events.push({ event: event, data: data });
  console.log('omlife ' + JSON.stringify({ page: page, event: event, data: data || null }));
};
App({
  onLaunch: function (o) { omlog('app.launch', o); },
  onShow: function (o) { omlog('app.show', o); },
  onHide: function () { omlog('app.hide'); },
  onError: function (e) { omlog('app.error', e && e.message); },
});
// The launch options are there synchronously on the entry page.
try { window.syncLaunch = openmini.getLaunchOptionsSync(); } catch (e) { window.syncLaunch = { error: e.code }; }
