package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/openmini/openmini/platform"
	"github.com/openmini/openmini/web"
)

const devUsage = `dev <dir> [--addr 127.0.0.1:8090] [--device iphone-13|pixel-7|ipad|desktop] [--open]
           [--allow ORIGIN]... [--data DIR]

Runs the local simulator: a platform on this machine (SQLite in a temporary
directory, or --data) that serves the project in <dir> from disk through the
same host shell, per-app origin and Content-Security-Policy as a released
mini program, without uploading anything. Open the simulator URL it prints:
the mini program runs in a device frame. On every save the project is
validated again (problems appear in the page and here, as ` + "`file: problem`" + `
lines) and the simulator reloads on the page it showed. The mini program's
console output and uncaught errors are printed here with their page.

Network: the mini program may reach only its own origin, the --allow origins
and the manifest's "x_openmini_dev": {"allowed_domains": [...]}; http is
allowed for loopback addresses (http://localhost:3000). See docs/dev.md.`

func cmdDev(ctx context.Context, c *cli, args []string) error {
	fs := newFlags(c, "dev", devUsage)
	addr := fs.String("addr", "127.0.0.1:8090", "address to listen on (port 0 picks a free one)")
	device := fs.String("device", web.DevDeviceIDs()[0], "device the simulator starts with: "+strings.Join(web.DevDeviceIDs(), ", "))
	open := fs.Bool("open", false, "open the simulator in the system browser (xdg-open), else just print its URL")
	var allow []string
	fs.Func("allow", "a network origin the mini program may reach, e.g. https://api.example.com or http://localhost:3000 (repeat it, or separate origins with commas)", func(v string) error {
		for _, o := range strings.Split(v, ",") {
			if o = strings.TrimSpace(o); o != "" {
				allow = append(allow, o)
			}
		}
		return nil
	})
	data := fs.String("data", "", "keep the platform's data (the mini program's storage, consents) in this directory between runs (default: a temporary directory removed at exit)")
	logLevel := fs.String("log-level", "warn", "level of the server's own log on stderr: debug, info, warn or error")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return exitError{2}
	}
	if !slices.Contains(web.DevDeviceIDs(), *device) {
		return usageError(c, "dev", "--device: %q is not one of %s", *device, strings.Join(web.DevDeviceIDs(), ", "))
	}
	log, err := platform.NewLogger(c.stderr, "text", *logLevel)
	if err != nil {
		return usageError(c, "dev", "%v", err)
	}
	dev, err := web.NewDevProject(ctx, web.DevOptions{Dir: pos[0], Allow: allow, Out: c.stdout})
	if err != nil {
		return usageError(c, "dev", "%v", err)
	}

	dataDir, kept := *data, true
	if dataDir == "" {
		if dataDir, err = os.MkdirTemp("", "openmini-dev-"); err != nil {
			return err
		}
		kept = false
		defer os.RemoveAll(dataDir)
	}
	cfg := platform.Defaults()
	cfg.Addr, cfg.DataDir, cfg.LogLevel, cfg.Version, cfg.Dev = *addr, dataDir, *logLevel, Version, dev
	cfg.Workers, cfg.ShutdownTimeout = 1, 3*time.Second
	p, err := platform.Open(ctx, cfg, log, io.Discard)
	if err != nil {
		fmt.Fprintf(c.stderr, "openmini dev: %v\n", err)
		return exitError{1}
	}
	defer p.Close()
	if err := p.Web.RegisterDevApp(ctx); err != nil {
		fmt.Fprintf(c.stderr, "openmini dev: %s\n", messageOf(err))
		return exitError{1}
	}

	sim := p.Web.DevURL(*device)
	if *device == web.DevDeviceIDs()[0] {
		sim = p.Web.DevURL("")
	}
	w := c.stdout
	name := dev.Name()
	if name == "" {
		name = dev.AppID()
	}
	fmt.Fprintf(w, "\nopenmini dev: serving %s as %q (app ID %s)\n", pos[0], name, dev.AppID())
	fmt.Fprintf(w, "  Simulator:    %s\n", sim)
	fmt.Fprintf(w, "  Launch link:  %s/app/%s/\n", p.URL, dev.AppID())
	fmt.Fprintf(w, "  App origin:   %s\n", p.Web.AppOrigin(dev.AppID()))
	if kept {
		fmt.Fprintf(w, "  Data:         %s\n", dataDir)
	} else {
		fmt.Fprintf(w, "  Data:         %s (removed at exit; --data keeps it)\n", dataDir)
	}
	fmt.Fprintln(w, "Watching for changes. Console output and errors of the mini program appear below; Ctrl-C stops.")
	if *open {
		openBrowser(c, sim)
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	watchErr := make(chan error, 1)
	go func() {
		err := dev.Run(runCtx)
		if err != nil {
			cancel()
		}
		watchErr <- err
	}()
	err = p.Run(runCtx)
	cancel()
	if werr := <-watchErr; werr != nil {
		fmt.Fprintf(c.stderr, "openmini dev: %v\n", werr)
		return exitError{1}
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// openBrowser opens url with the system's opener (xdg-open; open on
// macOS), or says to open it by hand when there is none.
func openBrowser(c *cli, url string) {
	name, args := "xdg-open", []string{url}
	switch runtime.GOOS {
	case "darwin":
		name = "open"
	case "windows":
		name, args = "rundll32", []string{"url.dll,FileProtocolHandler", url}
	}
	path, err := exec.LookPath(name)
	if err != nil {
		fmt.Fprintf(c.stdout, "No browser opener (%s) here; open %s in a browser.\n", name, url)
		return
	}
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(c.stdout, "Could not start %s (%v); open %s in a browser.\n", name, err, url)
		return
	}
	go cmd.Wait()
}
