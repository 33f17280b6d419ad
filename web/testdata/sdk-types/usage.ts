// A mini program written against the SDK's types. TestSDKTypes compiles it
// with tsc --strict: the calls below must type-check, and each misuse
// marked as an expected error must be refused (tsc fails on a marker that
// finds no error).
import type { OpenMini } from '../../static/sdk/openmini';

App({
  onLaunch(options) {
    const scene: OpenMini.Scene = options.scene;
    const table: string | undefined = options.query.table;
    console.log(scene, table, options.versionKind);
  },
  onError(error) {
    console.log(error.message.length);
  },
});

Page({
  onLoad(query) {
    const store: string | undefined = query.store;
    console.log(store);
  },
});

async function pay(orderId: string): Promise<number> {
  try {
    const r = await openmini.tradePay({ orderId });
    const state: OpenMini.TradeOrder['state'] = r.order.state;
    const paid: number = r.userPaid + r.discount;
    console.log(r.status === 'paid', r.paidAt.length, state, r.order.items?.[0]?.unit_price);
    return paid;
  } catch (e) {
    const err = e as OpenMini.OpenMiniError;
    switch (err.code) {
      case 'cancelled':
      case 'insufficient_funds':
      case 'order_not_payable':
      case 'merchant_unavailable':
      case 'not_linked':
      case 'pin_locked':
      case 'conflict':
        return 0;
    }
    // @ts-expect-error: not an error code the SDK has
    if (err.code === 'payment_failed') return -1;
    throw err;
  }
}

async function everything(): Promise<void> {
  const ready = await openmini.ready;
  console.log(ready.launch.appId, ready.page.route, ready.system.windowWidth);
  const stop = openmini.on('page.load', (q) => console.log(q.table));
  stop();
  openmini.on('app.show', (s) => console.log(s.scene));

  await openmini.navigateTo({ url: 'pages/cart?from=menu' });
  await openmini.navigateBack();
  await openmini.navigateToMiniProgram({ appId: 'mp0123456789abcd', path: 'pages/index', extraData: { a: 1 } });
  const { confirm } = await openmini.showModal({ title: 'Order?', content: 'Two bowls' });
  const { tapIndex } = await openmini.showActionSheet({ itemList: ['Eat in', 'Take away'] });
  await openmini.showToast({ title: 'Added', icon: 'success', duration: 1500 });
  console.log(confirm, tapIndex);

  await openmini.setStorage({ key: 'cart', data: [{ id: 1, n: 2 }] });
  const cart = await openmini.getStorage<Array<{ id: number; n: number }>>({ key: 'cart' });
  console.log(cart.data[0].n);
  const info = await openmini.getStorageInfo();
  console.log(info.currentSize <= info.limitSize, info.keys.length);

  const res = await openmini.request<{ id: string }>({ url: 'https://api.example.com/orders', method: 'POST', data: { n: 1 } });
  console.log(res.statusCode, res.data.id, res.header['content-type']);

  const { latitude, longitude } = await openmini.getLocation();
  const { result } = await openmini.scanCode({ onlyFromCamera: true });
  const { code } = await openmini.getAuthCode({ scopes: ['openid', 'profile'], nonce: 'n-1' });
  const { token } = await openmini.getLaunchData();
  console.log(latitude + longitude, result, code, token);

  // Callbacks work beside the promise.
  openmini.getSystemInfo({ success: (s) => console.log(s.theme), fail: (e) => console.log(e.code) });
  const r = await openmini.invoke<{ ok: boolean }>('someNewMethod', { x: 1 });
  console.log(r.ok, await pay('ord_0'));
}

async function misuse(): Promise<void> {
  // @ts-expect-error: tradePay needs the order's id
  await openmini.tradePay({});
  // @ts-expect-error: the id is orderId
  await openmini.tradePay({ order_id: 'ord_0' });
  // @ts-expect-error: url is a string
  await openmini.navigateTo({ url: 1 });
  // @ts-expect-error: no such toast icon
  await openmini.showToast({ title: 'x', icon: 'warning' });
  // @ts-expect-error: no such lifecycle event
  openmini.on('page.scroll', () => {});
  // @ts-expect-error: getAuthCode has no such scope
  await openmini.getAuthCode({ scopes: ['contacts'] });
  const r = await openmini.tradePay({ orderId: 'ord_0' });
  // @ts-expect-error: amounts are integers in minor units, not strings
  const s: string = r.amount;
  // @ts-expect-error: the merchant's fee is not the mini program's to see
  console.log(s, r.order.fee);
}

void everything();
void misuse();
