package webhook_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/openmini/openmini/internal/testenv"
	"github.com/openmini/openmini/pay/webhook"
)

// TestDocsNodeVerifier runs docs/payments.md's Node.js verifier, as
// printed, on headers Sign made: a merchant who copies it accepts real
// deliveries and refuses forged, stale and garbled ones (without throwing).
func TestDocsNodeVerifier(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Missing(t, "node (make test installs nodejs)")
	}
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "payments.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)the same steps \\(Node\\.js\\):\\s*```js\\n(.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatal("docs/payments.md has no Node.js verifier")
	}

	now := time.Now()
	body := `{"id":"evt_1","type":"order.paid","data":{"order":{"description":"桌 12"}}}`
	good := webhook.Sign("whsec_a", now, []byte(body))
	sig := good[strings.Index(good, "v1="):]
	ts := good[:strings.Index(good, ",")]
	type check struct {
		Name, Secret, Header, Body string
		Want                       bool
	}
	checks := []check{
		{"valid", "whsec_a", good, body, true},
		{"rotation: the second v1 matches", "whsec_a", ts + ",v1=" + strings.Repeat("00", 32) + "," + sig, body, true},
		{"other secret", "whsec_b", good, body, false},
		{"body changed", "whsec_a", good, strings.Replace(body, "paid", "closed", 1), false},
		{"too old", "whsec_a", webhook.Sign("whsec_a", now.Add(-10*time.Minute), []byte(body)), body, false},
		{"not hex", "whsec_a", ts + ",v1=" + strings.Repeat("zz", 32), body, false},
		{"short", "whsec_a", ts + ",v1=abcd", body, false},
		{"no signature", "whsec_a", ts, body, false},
		{"empty", "whsec_a", "", body, false},
	}
	in, _ := json.Marshal(checks)
	script := string(m[1]) + `
const checks = JSON.parse(require("fs").readFileSync(0, "utf8"));
for (const c of checks) {
  let got;
  try { got = verify(c.Secret, c.Header, c.Body); } catch (e) { got = "threw " + e.message; }
  console.log(JSON.stringify(got));
}`
	cmd := exec.Command(node, "-e", script)
	cmd.Stdin = strings.NewReader(string(in))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(checks) {
		t.Fatalf("node printed %d lines for %d checks:\n%s", len(lines), len(checks), out)
	}
	for i, c := range checks {
		if want, _ := json.Marshal(c.Want); lines[i] != string(want) {
			t.Errorf("%s: the docs' verifier says %s, want %s", c.Name, lines[i], want)
		}
	}
}
