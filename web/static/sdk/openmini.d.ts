// TypeScript types of the OpenMini JS SDK (the global `openmini`, and the
// ES module /_sdk/openmini.mjs). Every call returns a Promise and also
// accepts WeChat-style success/fail/complete callbacks. Docs: docs/sdk.md.
//
// Use it in a project: download /_sdk/openmini.d.ts from any app origin
// (or copy web/static/sdk/openmini.d.ts) and add it to tsconfig "files";
// or `import type { OpenMini } from './openmini'`.

export {};

declare global {
  /** The SDK, injected into every page of a mini program. */
  const openmini: OpenMini.SDK;
  /** Registers app-level lifecycle callbacks (W3C MiniApp Lifecycle). */
  function App<T extends OpenMini.AppOptions>(options: T): T;
  /** Registers page-level lifecycle callbacks (W3C MiniApp Lifecycle). */
  function Page<T extends OpenMini.PageOptions>(options: T): T;
  interface Window {
    openmini: OpenMini.SDK;
  }
}

export declare namespace OpenMini {
  /** Stable error codes; `error.code` is always one of these. */
  type ErrorCode =
    | 'invalid'        // a parameter is missing or wrong; the message names it
    | 'not_found'      // no such page, storage key, or mini program
    | 'limit'          // the page stack is full (10 pages), or there is no page to go back to
    | 'not_declared'   // the manifest's req_permissions does not declare the permission
    | 'denied'         // the user did not allow it
    | 'cancelled'      // the user closed the sheet or chose not to
    | 'unsupported'    // this host has no such call (e.g. no scanner)
    | 'too_large'      // storage: over 1 MB for one key or 10 MB for the app
    | 'network'        // request(): refused (not an allowed domain) or unreachable
    | 'timeout'        // request(): no answer in time
    | 'unauthorized'   // the call needs a signed-in user
    | 'forbidden'      // the user may not do this
    | 'conflict'       // the call clashed with a change made at the same time; try again
    | 'rate_limited'   // too many calls; try later
    | 'unavailable'    // the host or platform cannot answer now
    | 'no_host'        // the page runs outside the OpenMini host
    | 'not_ready'      // a *Sync call before the host answered; await openmini.ready
    | 'internal'       // a bug in the host
    // tradePay only (docs/payments.md):
    | 'insufficient_funds'   // the user closed a sheet whose balance was too low
    | 'order_not_payable'    // the order is closed, expired or paid by someone else
    | 'merchant_unavailable' // the merchant is suspended
    | 'not_linked'           // the order's merchant has not linked this mini program
    | 'pin_locked';          // the payment PIN is locked after too many wrong ones

  /** Every rejected promise carries one. */
  interface OpenMiniError extends Error {
    name: 'OpenMiniError';
    code: ErrorCode;
  }

  /** WeChat-style callbacks every call accepts beside its promise. */
  interface Callbacks<R> {
    success?: (result: R) => void;
    fail?: (error: OpenMiniError) => void;
    complete?: (resultOrError: R | OpenMiniError) => void;
  }

  type Call<P, R> = (params: P & Callbacks<R>) => Promise<R>;
  type OptionalCall<P, R> = (params?: P & Callbacks<R>) => Promise<R>;
  // eslint-disable-next-line @typescript-eslint/ban-types
  type Empty = {};

  /** Where a launch came from. */
  type Scene =
    | 'link' | 'qr' | 'search' | 'recommendation' | 'channel' | 'share' | 'recent' | 'favourite'
    | 'miniprogram' | 'trial' | 'preview' | 'dev';

  interface ReferrerInfo {
    /** The mini program that opened this one (navigateToMiniProgram). */
    appId?: string;
    /** extraData it passed. */
    extraData?: unknown;
  }

  /** getLaunchOptionsSync(), app.launch. */
  interface LaunchOptions {
    /** The page route opened, e.g. "pages/index". */
    path: string;
    /** The launch link's query parameters. */
    query: Record<string, string>;
    scene: Scene;
    referrerInfo: ReferrerInfo;
    appId: string;
    version: string;
    /** release, trial (testers), preview (reviewers) or dev (openmini dev). */
    versionKind: 'release' | 'trial' | 'preview' | 'dev';
    /** The host's origin. */
    host: string;
  }

  /** app.show: the page on screen and how the app came to the front. */
  interface ShowOptions {
    path: string;
    query: Record<string, string>;
    scene: Scene;
    referrerInfo: ReferrerInfo;
  }

  interface AppError {
    message: string;
    source?: string;
    line?: number;
    page?: string;
  }

  /** Lifecycle events and their payloads (openmini.on). */
  interface Events {
    'app.launch': LaunchOptions;
    'app.show': ShowOptions;
    'app.hide': Empty;
    'app.error': AppError;
    'page.load': Record<string, string>;
    'page.ready': Empty;
    'page.show': Empty;
    'page.hide': Empty;
    'page.unload': Empty;
  }
  type EventName = keyof Events;

  interface AppOptions {
    onLaunch?(options: LaunchOptions): void;
    onShow?(options: ShowOptions): void;
    onHide?(): void;
    onError?(error: AppError): void;
    [key: string]: unknown;
  }

  interface PageOptions {
    /** The page's query parameters. */
    onLoad?(query: Record<string, string>): void;
    onReady?(): void;
    onShow?(): void;
    onHide?(): void;
    onUnload?(): void;
    [key: string]: unknown;
  }

  interface SystemInfo {
    brand: string;
    model: 'mobile' | 'desktop';
    platform: string;
    pixelRatio: number;
    screenWidth: number;
    screenHeight: number;
    /** The mini program's window (below the navigation bar). */
    windowWidth: number;
    windowHeight: number;
    /** The host's language, e.g. "en" or "zh-Hans". */
    language: string;
    /** The host's version. */
    version: string;
    SDKVersion: string;
    theme: 'light' | 'dark';
    orientation: 'portrait' | 'landscape';
  }

  interface StorageInfo {
    keys: string[];
    /** KB used. */
    currentSize: number;
    /** KB allowed (10240). */
    limitSize: number;
  }

  interface RequestResult<T = unknown> {
    statusCode: number;
    /** Parsed JSON when the body is JSON (unless dataType is "text"). */
    data: T;
    header: Record<string, string>;
  }

  /** A line of a payment order. Amounts are integers in minor units (fen). */
  interface OrderItem {
    name: string;
    quantity: number;
    unit_price: number;
  }

  /** The paid order as tradePay gives it: what the payment sheet showed the
   *  user. (The merchant's fee and net stay with its API and webhooks.) */
  interface TradeOrder {
    id: string;
    merchant_order_no?: string;
    description: string;
    items?: OrderItem[];
    currency: string;
    amount: number;
    /** The platform-funded coupon. */
    discount: number;
    user_paid: number;
    state: 'paid' | 'partly_refunded' | 'refunded';
    /** RFC 3339 times. */
    created_at: string;
    paid_at?: string;
  }

  /** tradePay's result. Amounts are integers in minor units of currency. */
  interface TradeResult {
    status: 'paid';
    orderId: string;
    amount: number;
    /** The platform-funded coupon. */
    discount: number;
    /** What the wallet paid: amount - discount. */
    userPaid: number;
    currency: string;
    /** RFC 3339. */
    paidAt: string;
    order: TradeOrder;
  }

  interface SDK {
    /** The SDK's version. */
    readonly version: string;
    /** Resolves once the host answered this page's handshake. */
    readonly ready: Promise<{ launch: LaunchOptions; page: { route: string; query: Record<string, string> }; system: SystemInfo }>;
    readonly env: { readonly inHost: boolean; readonly host: string };
    readonly OpenMiniError: (code: ErrorCode, message?: string) => OpenMiniError;

    /** Listens to a lifecycle event; returns a function that stops listening. */
    on<E extends EventName>(event: E, listener: (data: Events[E]) => void): () => void;
    off<E extends EventName>(event: E, listener: (data: Events[E]) => void): void;
    onAppShow(listener: (data: ShowOptions) => void): () => void;
    onAppHide(listener: (data: Empty) => void): () => void;
    onError(listener: (data: AppError) => void): () => void;

    /** Launch options, synchronously (throws not_ready on a non-entry page before openmini.ready). */
    getLaunchOptionsSync(): LaunchOptions;
    getLaunchOptions: OptionalCall<Empty, LaunchOptions>;
    /** System information, synchronously (after openmini.ready). */
    getSystemInfoSync(): SystemInfo;

    // ------------------------------------------------------ navigation
    /** Opens a page on top of the stack (at most 10 pages: limit). */
    navigateTo: Call<{ url: string }, Empty>;
    /** Replaces the current page. */
    redirectTo: Call<{ url: string }, Empty>;
    /** Closes delta pages (default 1; at least the first page stays). */
    navigateBack: OptionalCall<{ delta?: number }, Empty>;
    /** Closes every page and opens url. */
    reLaunch: Call<{ url: string }, Empty>;
    /** Opens another mini program after the user confirms. */
    navigateToMiniProgram: Call<{ appId: string; path?: string; extraData?: unknown }, Empty>;
    /** Closes this mini program. */
    exit: OptionalCall<Empty, Empty>;

    // ------------------------------------------------------ UI
    showToast: Call<{ title: string; icon?: 'success' | 'error' | 'loading' | 'none'; duration?: number }, Empty>;
    showModal: Call<{ title?: string; content?: string; showCancel?: boolean; cancelText?: string; confirmText?: string }, { confirm: boolean; cancel: boolean }>;
    /** 1 to 6 items; cancelled when the user closes it. */
    showActionSheet: Call<{ itemList: string[]; alertText?: string }, { tapIndex: number }>;
    showLoading: OptionalCall<{ title?: string; mask?: boolean }, Empty>;
    hideLoading: OptionalCall<Empty, Empty>;
    /** The current page's title in the navigation bar. */
    setNavigationBarTitle: Call<{ title: string }, Empty>;
    /** The current page's navigation bar colours. */
    setNavigationBarColor: Call<{ frontColor?: '#ffffff' | '#000000'; backgroundColor?: string }, Empty>;

    // ------------------------------------------------------ storage (per user, per app, on the server)
    /** Any JSON value; at most 1 MB per key and 10 MB per app (too_large). */
    setStorage: Call<{ key: string; data: unknown }, Empty>;
    /** not_found when the key has no data. */
    getStorage: <T = unknown>(params: { key: string } & Callbacks<{ data: T }>) => Promise<{ data: T }>;
    removeStorage: Call<{ key: string }, Empty>;
    clearStorage: OptionalCall<Empty, Empty>;
    getStorageInfo: OptionalCall<Empty, StorageInfo>;

    // ------------------------------------------------------ device
    getSystemInfo: OptionalCall<Empty, SystemInfo>;
    /** The host's scanner (unsupported when it has none). */
    scanCode: OptionalCall<{ onlyFromCamera?: boolean }, { result: string; scanType: string }>;
    /** Needs "location" in req_permissions and the user's consent. */
    getLocation: OptionalCall<{ type?: 'wgs84' }, { latitude: number; longitude: number; accuracy: number }>;
    setClipboardData: Call<{ data: string }, Empty>;
    /** Needs "clipboard" in req_permissions and the user's consent. */
    getClipboardData: OptionalCall<Empty, { data: string }>;
    /** Asks the user, then dials. */
    makePhoneCall: Call<{ phoneNumber: string }, Empty>;

    // ------------------------------------------------------ network
    /** fetch() under the app's Content-Security-Policy: only the app's allowed domains answer. */
    request: <T = unknown>(params: {
      url: string;
      method?: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS';
      data?: unknown;
      header?: Record<string, string>;
      timeout?: number;
      dataType?: 'json' | 'text';
      responseType?: 'text' | 'arraybuffer';
    } & Callbacks<RequestResult<T>>) => Promise<RequestResult<T>>;

    // ------------------------------------------------------ identity and payments (host extensions)
    /** A one-time code the mini program's server exchanges at the platform's token endpoint. */
    getAuthCode: OptionalCall<{ scopes?: Array<'openid' | 'profile' | 'phone' | 'email' | 'location'>; nonce?: string }, { code: string }>;
    /** This launch, signed by the platform, for the mini program's server to verify. */
    getLaunchData: OptionalCall<Empty, { token: string }>;
    /** Pays a payment order the mini program's server created. */
    tradePay: Call<{ orderId: string }, TradeResult>;

    /** Calls any host method by name (for host extensions newer than this SDK). */
    invoke<R = unknown>(method: string, params?: Record<string, unknown> & Callbacks<R>): Promise<R>;
  }
}
