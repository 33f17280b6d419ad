package main

import (
	"context"
	"flag"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openmini/openmini/platform"
)

// TestEverySettingIsDocumented checks that each serve flag appears, with
// its environment variable, in --help and in docs/configuration.md.
func TestEverySettingIsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	var cfg platform.Config
	fs, _ := serveFlags(&cli{getenv: func(string) string { return "" }}, &cfg)
	_, _, help := runCmd(t, nil, "serve", "--help")
	n := 0
	fs.VisitAll(func(f *flag.Flag) {
		n++
		env := EnvName(f.Name)
		if !strings.Contains(string(doc), "`--"+f.Name+"`") || !strings.Contains(string(doc), "`"+env+"`") {
			t.Errorf("docs/configuration.md lacks --%s / %s", f.Name, env)
		}
		if !strings.Contains(help, "-"+f.Name) || !strings.Contains(help, env) {
			t.Errorf("serve --help lacks -%s / %s", f.Name, env)
		}
	})
	if n < 10 {
		t.Fatalf("only %d flags", n)
	}
}

func TestServeRejectsBadSettingsWithOneLine(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		env  map[string]string
		args []string
		want string
		code int
	}{
		{nil, []string{"serve", "--log-format", "xml"}, "--log-format:", 2},
		{map[string]string{"OPENMINI_WORKERS": "many"}, []string{"serve"}, "OPENMINI_WORKERS:", 2},
		{map[string]string{"OPENMINI_DATABASE_URL": "mysql://x/y"}, []string{"serve", "--addr", "127.0.0.1:0", "--data", dir}, "--database-url: unsupported scheme", 1},
		// A flag wins over the environment.
		{map[string]string{"OPENMINI_LOG_LEVEL": "loud"}, []string{"serve", "--log-level", "info", "--addr", "127.0.0.1:0", "--data", dir, "--blob-url", "ftp://x"}, "--blob-url:", 1},
	}
	for _, tc := range cases {
		code, _, stderr := runCmd(t, tc.env, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v %v: exit %d, stderr %q; want exit %d and one line with %q", tc.env, tc.args, code, stderr, tc.code, tc.want)
		}
	}
}

// TestServeStartsAndStops runs the serve command in-process on a fresh
// data directory and stops it with its context, as SIGTERM does.
func TestServeStartsAndStops(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	// A free port, so the test can wait for /readyz: stopping the server
	// before it has finished starting (migrating a fresh database takes a
	// while under -race) would test a different thing.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var code int
	var out, errOut string
	go func() {
		defer close(done)
		code, out, errOut = runCmdCtx(ctx, nil, "serve", "--addr", addr, "--data", dir)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if resp, err := http.Get("http://" + addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the server did not become ready")
		}
		select {
		case <-done:
			t.Fatalf("serve ended early: exit %d\n%s\n%s", code, out, errOut)
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	<-done
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "/setup?token=") || !strings.Contains(out, ".apps.localhost:") {
		t.Fatalf("banner lacks the setup link or app origins:\n%s", out)
	}
	if !strings.Contains(errOut, "msg=stopped") {
		t.Fatalf("no clean stop logged:\n%s", errOut)
	}
}
