// openmini as an ES module: `import openmini, { navigateTo } from '/_sdk/openmini.mjs'`.
// Every page of a mini program already has the global `openmini` (the host
// injects /_sdk/openmini.js first thing in <head>); this module re-exports
// it. On an HTML file that is not a page of the manifest (so has no
// injected script) it loads the script first.
const g = globalThis;
if (!g.openmini) {
  await new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = '/_sdk/openmini.js';
    s.onload = resolve;
    s.onerror = () => reject(new Error('openmini: the SDK script could not be loaded'));
    document.head.append(s);
  });
}
const openmini = g.openmini;
export default openmini;
export const {
  version, ready, env, on, off, invoke, OpenMiniError,
  getLaunchOptionsSync, getSystemInfoSync, getLaunchOptions,
  onAppShow, onAppHide, onError,
  navigateTo, redirectTo, navigateBack, reLaunch, navigateToMiniProgram, exit,
  showToast, showModal, showActionSheet, showLoading, hideLoading, setNavigationBarTitle, setNavigationBarColor,
  setStorage, getStorage, removeStorage, clearStorage, getStorageInfo,
  getSystemInfo, scanCode, getLocation, setClipboardData, getClipboardData, makePhoneCall,
  request, getAuthCode, getLaunchData, tradePay,
} = openmini;
export const App = g.App;
export const Page = g.Page;
