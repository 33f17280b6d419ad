package platformtest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/openmini/openmini/miniapp"
)

// API is a JSON client for the REST API as one caller: a cookie session or
// an API key.
type API struct {
	R      *Running
	C      *http.Client
	Token  string // API key; empty to use the client's cookies
	Origin bool   // send the host's Origin header (as a browser would)
}

// API returns a client for the platform's API using c's cookies.
func (r *Running) API(c *http.Client) *API { return &API{R: r, C: c, Origin: true} }

// KeyAPI returns a client that authenticates with an API key.
func (r *Running) KeyAPI(token string) *API {
	return &API{R: r, C: r.Client(), Token: token}
}

// Do sends a request with a JSON body (nil for none, []byte sent raw) and
// decodes the JSON answer into out (may be nil). It returns the status.
func (a *API) Do(t testing.TB, method, path string, body, out any) int {
	t.Helper()
	var rd io.Reader
	ct := "application/json"
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
		ct = miniapp.MediaType
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, a.R.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", ct)
	}
	if a.Token != "" {
		req.Header.Set("Authorization", "Bearer "+a.Token)
	}
	if a.Origin {
		req.Header.Set("Origin", a.R.URL)
	}
	resp, err := a.C.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: status %d, body is not JSON: %v\n%s", method, path, resp.StatusCode, err, raw)
		}
	}
	return resp.StatusCode
}

// Must is Do that fails the test unless the status is want.
func (a *API) Must(t testing.TB, want int, method, path string, body, out any) {
	t.Helper()
	var raw json.RawMessage
	code := a.Do(t, method, path, body, &raw)
	if code != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, code, want, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatal(err)
		}
	}
}

// ErrorBody is the JSON error shape.
type ErrorBody struct {
	Error struct {
		Code     string            `json:"code"`
		Message  string            `json:"message"`
		Problems []miniapp.Problem `json:"problems"`
	} `json:"error"`
}

// Package writes a project from a template with the given version name and
// returns its packed bytes.
func Package(t testing.TB, template, name, version string, edit func(dir string)) []byte {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "project")
	if err := miniapp.Init(dir, template, name); err != nil {
		t.Fatal(err)
	}
	setVersion(t, dir, version)
	if edit != nil {
		edit(dir)
	}
	b, _, err := miniapp.Pack(context.Background(), dir, miniapp.DefaultLimits())
	if err != nil {
		t.Fatalf("pack %s: %v", template, err)
	}
	return b
}

func setVersion(t testing.TB, dir, version string) {
	t.Helper()
	p := filepath.Join(dir, "manifest.json")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	v, _ := m["version"].(map[string]any)
	if v == nil {
		v = map[string]any{}
	}
	v["name"] = version
	code := 1
	for _, c := range version {
		if c >= '0' && c <= '9' {
			code = code*10 + int(c-'0')
		}
	}
	v["code"] = code
	m["version"] = v
	out, _ := json.MarshalIndent(m, "", "  ")
	if err := os.WriteFile(p, out, 0o644); err != nil {
		t.Fatal(err)
	}
}
