// Paying for the cart: the restaurant's own server prices the cart from
// its menu and creates the payment order with its merchant API key; then
// the host's payment sheet takes the payment (openmini.tradePay). The
// server runs on the same machine as the platform in the demo; it is
// reached at 127.0.0.1 when the host is localhost, so that it is not the
// host's own origin (which a mini program may never call), and it is in
// this app's network allow-list.
(function () {
  function server() {
    var u = new URL(openmini.env.host);
    if (u.hostname === 'localhost') u.hostname = '127.0.0.1';
    return u.origin + '/demo/noodlebar';
  }
  window.noodlesPay = async function (cart, table) {
    var res = await openmini.request({
      url: server() + '/orders', method: 'POST',
      data: { cart: cart, table: table ? String(table.table) : '', store: table ? String(table.store || '') : '' },
    });
    if (res.statusCode !== 201 || !res.data || !res.data.order_id) {
      throw Object.assign(new Error((res.data && res.data.error) || 'The restaurant could not take the order. 餐厅暂时无法下单。'), { code: 'order_failed' });
    }
    return openmini.tradePay({ orderId: res.data.order_id });
  };
})();
