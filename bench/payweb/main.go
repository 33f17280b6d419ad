// Command payweb measures payments through the running platform's HTTP
// surfaces (see BENCHMARKS.md, section "Payments in the platform"): a
// platform started in this process with --demo's payments world, and
// clients over real loopback HTTP doing what merchant servers and the
// host's tradePay do, beside GET /healthz on the same server and clients
// as the plain-HTTP reference.
//
//	go run ./bench/payweb -duration 5s -clients 8
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/openmini/openmini/bench/internal/benchkit"

	"github.com/openmini/openmini/account"
	"github.com/openmini/openmini/pay"
	"github.com/openmini/openmini/platform"
)

func main() {
	duration := flag.Duration("duration", 5*time.Second, "how long each measurement runs")
	clients := flag.Int("clients", 8, "concurrent clients")
	dbURL := flag.String("database-url", "", "database (empty: SQLite in a temporary folder)")
	flag.Parse()
	if err := run(*duration, *clients, *dbURL); err != nil {
		fmt.Fprintln(os.Stderr, "payweb:", err)
		os.Exit(1)
	}
}

type env struct {
	base, keyID, secret string
	users               []*http.Client
}

func run(d time.Duration, clients int, dbURL string) error {
	dir, err := os.MkdirTemp("", "payweb-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := platform.Defaults()
	cfg.Addr, cfg.DataDir, cfg.DatabaseURL, cfg.Demo, cfg.LogLevel = "127.0.0.1:0", dir, dbURL, true, "error"
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	p, err := platform.Open(ctx, cfg, log, io.Discard)
	if err != nil {
		return err
	}
	defer p.Close()
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	defer func() { cancel(); <-done }()

	e := &env{base: p.URL}
	// The demo restaurant's API key, as its own server keeps it.
	raw, err := os.ReadFile(filepath.Join(dir, "demo-noodlebar.json"))
	if err != nil {
		return err
	}
	var creds struct {
		KeyID  string `json:"key_id"`
		Secret string `json:"secret"`
	}
	if err := json.Unmarshal(raw, &creds); err != nil {
		return err
	}
	e.keyID, e.secret = creds.KeyID, creds.Secret
	// One diner per client, each with a PIN and money.
	u, _ := url.Parse(p.URL)
	for i := range clients {
		a, err := p.Accounts.Create(ctx, p.DB, account.NewAccount{Email: fmt.Sprintf("diner%d@bench.example", i), Name: "Diner", Password: "bench-password-1"})
		if err != nil {
			return err
		}
		token, err := p.Accounts.CreateSession(ctx, a.ID)
		if err != nil {
			return err
		}
		if _, err := p.Pay.TopUpWallet(ctx, a.ID, 1_000_000_00, "bench"); err != nil {
			return err
		}
		if err := p.Pay.SetPIN(ctx, a.ID, "", "246813"); err != nil {
			return err
		}
		jar, _ := cookiejar.New(nil)
		jar.SetCookies(u, []*http.Cookie{{Name: "om_session", Value: token, Path: "/"}})
		e.users = append(e.users, &http.Client{Jar: jar, Timeout: 30 * time.Second})
	}
	plain := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: clients * 2}}

	fmt.Printf("# %d clients over loopback HTTP, %s each, %s\n", clients, d, p.DB)
	var seq atomic.Int64
	benchkit.Measure("reference: GET /healthz", d, clients, func(int) error {
		resp, err := plain.Get(e.base + "/healthz")
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return status(resp, 200)
	})
	benchkit.Measure("POST /api/v1/merchant/orders (create, Idempotency-Key)", d, clients, func(int) error {
		_, err := e.createOrder(plain, seq.Add(1))
		return err
	})
	benchkit.Measure("create order + tradePay pay with the PIN (argon2id at the default cost)", d, clients, func(i int) error {
		id, err := e.createOrder(plain, seq.Add(1))
		if err != nil {
			return err
		}
		return e.post(e.users[i], "/host/api/pay/pay", map[string]any{"order_id": id, "pin": "246813"}, 200, nil)
	})
	if err := pay.CheckLedger(ctx, p.DB); err != nil {
		return fmt.Errorf("ledger after the run: %w", err)
	}
	fmt.Println("# ledger checked: balanced")
	return nil
}

func (e *env) createOrder(c *http.Client, n int64) (string, error) {
	body, _ := json.Marshal(pay.OrderRequest{Amount: 100 + n%900, Description: "bench"})
	req, _ := http.NewRequest("POST", e.base+"/api/v1/merchant/orders", bytes.NewReader(body))
	req.SetBasicAuth(e.keyID, e.secret)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", fmt.Sprintf("bench-%d", n))
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var o pay.Order
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 201 || json.Unmarshal(raw, &o) != nil {
		return "", fmt.Errorf("create order: %d %s", resp.StatusCode, raw)
	}
	return o.ID, nil
}

func (e *env) post(c *http.Client, path string, body any, want int, out any) error {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", e.base+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Origin", e.base)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("POST %s: %d %s", path, resp.StatusCode, raw)
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

func status(resp *http.Response, want int) error {
	if resp.StatusCode != want {
		return fmt.Errorf("%s: status %d", resp.Request.URL.Path, resp.StatusCode)
	}
	return nil
}
