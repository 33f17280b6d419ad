package testenv

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ChromiumPath is the browser the tests drive: $OPENMINI_TEST_CHROMIUM,
// else /usr/bin/chromium, else chromium on PATH.
func ChromiumPath() string {
	if p := os.Getenv("OPENMINI_TEST_CHROMIUM"); p != "" {
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	return ""
}

// BrowserOptions tune Browser.
type BrowserOptions struct {
	Width, Height int // viewport; default a phone, 390x844
	Timeout       time.Duration
	Lang          string // Accept-Language / UI language, default en-US
}

// Browser starts a fresh headless Chromium (its own empty profile) for the
// test and returns a chromedp context on its first tab. The browser is
// closed when the test ends. Without Chromium the test is skipped (failed
// under OPENMINI_TEST_REQUIRE_ALL=1).
func Browser(t testing.TB, o ...BrowserOptions) context.Context {
	t.Helper()
	var opt BrowserOptions
	if len(o) > 0 {
		opt = o[0]
	}
	if opt.Width == 0 {
		opt.Width, opt.Height = 390, 844
	}
	if opt.Timeout == 0 {
		opt.Timeout = 90 * time.Second
	}
	if opt.Lang == "" {
		opt.Lang = "en-US"
	}
	path := ChromiumPath()
	if path == "" {
		Missing(t, "Chromium: install Debian's chromium or set OPENMINI_TEST_CHROMIUM")
	}
	allocOpts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		// Same-process frames let tests read a mini program's iframe with
		// chromedp.FromNode; the same-origin policy still holds.
		chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints,IsolateOrigins,site-per-process"),
		chromedp.Flag("disable-site-isolation-trials", true),
		chromedp.Flag("lang", opt.Lang),
		chromedp.WindowSize(opt.Width, opt.Height),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), allocOpts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, opt.Timeout)
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
	})
	if err := chromedp.Run(ctx, chromedp.EmulateViewport(int64(opt.Width), int64(opt.Height))); err != nil {
		t.Fatalf("start Chromium (%s): %v", path, err)
	}
	return ctx
}
