package web_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/openmini/openmini/internal/testenv"
	"github.com/openmini/openmini/pay"
	"github.com/openmini/openmini/pay/webhook"
)

// TestPayServerCrash is the crash test against the real binary:
// it builds openmini, runs `openmini serve --demo`, drives payments over
// the real merchant API (orders with Idempotency-Keys) and the host's
// tradePay endpoints (a signed-in diner with a PIN), kills the server with
// SIGKILL in the middle of the load, starts it again on the same data,
// and proves that nothing was lost (every payment a client saw succeed is
// paid), nothing was doubled (one payment per order, the wallet charged
// exactly the paid orders, the settlement reconciled with the ledger) and
// every paid order's webhook reaches the merchant's server in the end,
// with a valid signature.
func TestPayServerCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the openmini binary")
	}
	bin := filepath.Join(t.TempDir(), "openmini")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/openmini").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	data := t.TempDir()
	dbURL := testenv.DatabaseURL(t)
	addr := freeAddr(t)
	base := "http://localhost:" + addr[strings.LastIndexByte(addr, ':')+1:]

	srv := startServe(t, bin, addr, data, dbURL)
	banner := srv.waitBanner(t)
	m := regexp.MustCompile(`(?m)^\s+user\s+(\S+@\S+)\s+(\S+)`).FindStringSubmatch(banner)
	d := regexp.MustCompile(`(?m)^\s+developer\s+(\S+@\S+)\s+(\S+)`).FindStringSubmatch(banner)
	if m == nil || d == nil {
		t.Fatalf("no demo credentials in the banner:\n%s", banner)
	}
	var creds struct {
		MerchantID    int64  `json:"merchant_id"`
		KeyID         string `json:"key_id"`
		Secret        string `json:"secret"`
		WebhookSecret string `json:"webhook_secret"`
	}
	raw, err := os.ReadFile(filepath.Join(data, "demo-noodlebar.json"))
	if err != nil || json.Unmarshal(raw, &creds) != nil {
		t.Fatalf("demo merchant credentials: %v", err)
	}

	// The merchant's server, outside the platform's process.
	rc := &crashReceiver{secret: creds.WebhookSecret, events: map[string]string{}}
	hook := httptest.NewServer(rc)
	t.Cleanup(hook.Close)
	dev := newSession(t, base)
	dev.form(t, "/signin", url.Values{"email": {d[1]}, "password": {d[2]}}, http.StatusSeeOther)
	dev.form(t, fmt.Sprintf("/console/merchants/%d/webhook", creds.MerchantID), url.Values{"url": {hook.URL + "/hook"}}, http.StatusSeeOther)

	diner := newSession(t, base)
	diner.form(t, "/me/signin", url.Values{"login": {m[1]}, "password": {m[2]}}, http.StatusSeeOther)
	if code, body := diner.json(t, "/host/api/pay/pin", map[string]string{"pin": "246813"}, nil); code != 200 {
		t.Fatalf("set PIN: %d %s", code, body)
	}
	var wallet struct{ start int64 }
	wallet.start = diner.balance(t)

	// The load: four clients, each creating an order and paying it, until
	// the server dies under them.
	var mu sync.Mutex
	acked := map[string]bool{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for c := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var o pay.Order
				key := fmt.Sprintf("crash-%d-%d", c, i)
				code, _ := merchantPost(base, creds.KeyID, creds.Secret, "/api/v1/merchant/orders", key,
					pay.OrderRequest{Amount: int64(100 + (c*31+i)%90), Description: "crash load"}, &o)
				if code != 201 {
					continue
				}
				var res struct{ Status, OrderID string }
				if code, _ := diner.json(t, "/host/api/pay/pay", map[string]any{"order_id": o.ID, "pin": "246813"}, &res); code == 200 && res.Status == "paid" {
					mu.Lock()
					acked[o.ID] = true
					mu.Unlock()
				}
			}
		}()
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 40 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	srv.kill(t)
	close(stop)
	wg.Wait()
	if len(acked) < 20 {
		t.Fatalf("only %d payments went through before the kill", len(acked))
	}

	// Start again on the same data.
	srv = startServe(t, bin, addr, data, dbURL)
	srv.waitBanner(t)

	// Nothing lost: every acknowledged payment is paid.
	paid := map[string]pay.Order{}
	var userPaid int64
	before := ""
	for {
		var page struct {
			Orders []pay.Order `json:"orders"`
			Next   string      `json:"next"`
		}
		if code, body := merchantGet(base, creds.KeyID, creds.Secret, "/api/v1/merchant/orders?limit=200&before="+url.QueryEscape(before), &page); code != 200 {
			t.Fatalf("list orders: %d %s", code, body)
		}
		for _, o := range page.Orders {
			if o.State == pay.StatePaid {
				paid[o.ID] = o
				userPaid += o.UserPaid
			}
		}
		if before = page.Next; before == "" {
			break
		}
	}
	for id := range acked {
		if _, ok := paid[id]; !ok {
			t.Errorf("payment %s was acknowledged before the crash but is not paid after it", id)
		}
	}
	// Nothing doubled: the wallet paid exactly the paid orders, and the
	// day's settlement has one payment line per paid order and agrees with
	// the ledger to the cent.
	if got := diner.balance(t); got != wallet.start-userPaid {
		t.Errorf("wallet %d after the crash, want %d - %d paid = %d", got, wallet.start, userPaid, wallet.start-userPaid)
	}
	var rep pay.SettlementReport
	if code, body := merchantGet(base, creds.KeyID, creds.Secret, "/api/v1/merchant/settlements/"+time.Now().UTC().Format("2006-01-02"), &rep); code != 200 {
		t.Fatalf("settlement: %d %s", code, body)
	}
	lines := map[string]int{}
	for _, l := range rep.Lines {
		if l.Type == "payment" {
			lines[l.OrderID]++
		}
	}
	if !rep.Reconciled || rep.Payments != len(paid) || len(lines) != len(paid) {
		t.Errorf("settlement after the crash: reconciled %v, %d payments (%d orders) for %d paid orders", rep.Reconciled, rep.Payments, len(lines), len(paid))
	}
	for id, n := range lines {
		if n != 1 {
			t.Errorf("order %s has %d payment lines", id, n)
		}
	}

	// Every paid order's webhook arrives in the end, signed. A delivery
	// cut off by the kill is retried when its job's lease runs out.
	deadline = time.Now().Add(150 * time.Second)
	for {
		rc.mu.Lock()
		missing := 0
		for id := range paid {
			if _, ok := rc.events[id]; !ok {
				missing++
			}
		}
		bad := rc.bad
		rc.mu.Unlock()
		if bad > 0 {
			t.Fatalf("%d webhook deliveries failed verification", bad)
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d paid orders have no order.paid webhook after the restart", missing, len(paid))
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("%d payments acknowledged before SIGKILL, %d paid after the restart, all webhooks delivered", len(acked), len(paid))
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// served is a running `openmini serve`.
type served struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	out    bytes.Buffer
	exited chan struct{}
}

func startServe(t *testing.T, bin, addr, data, dbURL string) *served {
	t.Helper()
	s := &served{exited: make(chan struct{})}
	s.cmd = exec.Command(bin, "serve", "--demo", "--addr", addr, "--data", data, "--log-level", "warn")
	s.cmd.Env = append(os.Environ(), "OPENMINI_DATABASE_URL="+dbURL)
	pr, pw := io.Pipe()
	s.cmd.Stdout, s.cmd.Stderr = pw, pw
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			s.mu.Lock()
			s.out.WriteString(sc.Text() + "\n")
			s.mu.Unlock()
		}
	}()
	go func() { s.cmd.Wait(); pw.Close(); close(s.exited) }()
	t.Cleanup(func() { s.kill(t) })
	return s
}

// waitBanner waits until the server answers /readyz and returns what it
// printed.
func (s *served) waitBanner(t *testing.T) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		s.mu.Lock()
		out := s.out.String()
		s.mu.Unlock()
		if i := strings.Index(out, "Host (users):"); i >= 0 {
			u := strings.Fields(out[i+len("Host (users):"):])[0]
			if resp, err := http.Get(strings.TrimSuffix(u, "/") + "/readyz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					return out
				}
			}
		}
		select {
		case <-s.exited:
			t.Fatalf("openmini serve exited:\n%s", out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("openmini serve is not ready after 60s:\n%s", out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (s *served) kill(t *testing.T) {
	select {
	case <-s.exited:
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.exited
}

// session is a browser-like client of the host and consoles.
type session struct {
	base string
	c    *http.Client
}

func newSession(t *testing.T, base string) *session {
	jar, _ := cookiejar.New(nil)
	return &session{base: base, c: &http.Client{Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (s *session) form(t *testing.T, path string, v url.Values, want int) {
	t.Helper()
	req, _ := http.NewRequest("POST", s.base+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", s.base)
	resp, err := s.c.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		t.Fatalf("POST %s: %d, want %d\n%s", path, resp.StatusCode, want, body)
	}
}

// json posts to a host endpoint; a failed connection (the server was
// killed) is status 0.
func (s *session) json(t *testing.T, path string, body, out any) (int, string) {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", s.base+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Origin", s.base)
	resp, err := s.c.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil {
		json.Unmarshal(raw, out)
	}
	return resp.StatusCode, string(raw)
}

var balanceRE = regexp.MustCompile(`id="balance">¥(\d+)\.(\d\d)<`)

// balance reads the wallet page's balance in minor units.
func (s *session) balance(t *testing.T) int64 {
	t.Helper()
	resp, err := s.c.Get(s.base + "/pay/wallet")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := balanceRE.FindSubmatch(body)
	if resp.StatusCode != 200 || m == nil {
		t.Fatalf("wallet page: %d", resp.StatusCode)
	}
	var whole, frac int64
	fmt.Sscan(string(m[1]), &whole)
	fmt.Sscan(string(m[2]), &frac)
	return whole*100 + frac
}

func merchantPost(base, keyID, secret, path, key string, body, out any) (int, string) {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", base+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	return merchantDo(req, keyID, secret, out)
}

func merchantGet(base, keyID, secret, path string, out any) (int, string) {
	req, _ := http.NewRequest("GET", base+path, nil)
	return merchantDo(req, keyID, secret, out)
}

func merchantDo(req *http.Request, keyID, secret string, out any) (int, string) {
	req.SetBasicAuth(keyID, secret)
	c := &http.Client{Timeout: 20 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil {
		json.Unmarshal(raw, out)
	}
	return resp.StatusCode, string(raw)
}

// crashReceiver is the merchant's webhook endpoint: it verifies each
// delivery and keeps the order.paid events by order.
type crashReceiver struct {
	secret string
	mu     sync.Mutex
	events map[string]string // order id -> event id
	bad    int
}

func (rc *crashReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if err := webhook.Verify(rc.secret, r.Header.Get(webhook.Header), body, time.Now(), 5*time.Minute); err != nil {
		rc.bad++
		http.Error(w, "bad signature", http.StatusBadRequest)
		return
	}
	var ev receivedEvent
	if json.Unmarshal(body, &ev) != nil {
		rc.bad++
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	if ev.Type == "order.paid" {
		rc.events[ev.Data.Order.ID] = ev.ID
	}
	w.WriteHeader(http.StatusNoContent)
}
