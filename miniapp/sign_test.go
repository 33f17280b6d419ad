package miniapp

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"io"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/blob"
)

func testKey(t *testing.T, seed byte) (ed25519.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
	return priv.Public().(ed25519.PublicKey), priv
}

func TestSignVerify(t *testing.T) {
	pub, priv := testKey(t, 1)
	otherPub, otherPriv := testKey(t, 2)
	pkg := buildZip(t, validEntries()...)
	sig, err := Sign(pkg, priv, "2025-01")
	if err != nil {
		t.Fatal(err)
	}
	jwks, err := MarshalKeySet(KeySet{Keys: []PublicKey{{KeyID: "old", Key: otherPub}, {KeyID: "2025-01", Key: pub}}})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := ParseKeySet(jwks)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Verify(pkg, sig, keys)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if s.KeyID != "2025-01" || len(s.SHA256) != 64 {
		t.Errorf("signature %+v", s)
	}

	tampered := bytes.Clone(pkg)
	tampered[len(tampered)/2] ^= 1
	wrongKey, _ := Sign(pkg, otherPriv, "2025-01")
	unknown, _ := Sign(pkg, priv, "nope")
	var forged Signature
	json.Unmarshal(sig, &forged)
	forged.Signature = strings.Repeat("A", 86)
	forgedJSON, _ := json.Marshal(forged)
	for name, tc := range map[string]struct {
		pkg, sig []byte
		want     string
	}{
		"tampered package": {tampered, sig, "the package was changed"},
		"wrong key":        {pkg, wrongKey, "does not verify"},
		"unknown kid":      {pkg, unknown, "not among the platform's published keys"},
		"forged signature": {pkg, forgedJSON, "does not verify"},
		"not json":         {pkg, []byte("nope"), "not valid JSON"},
		"other format":     {pkg, []byte(`{"format": "x", "alg": "RS256"}`), "unsupported signature format"},
	} {
		_, err := Verify(tc.pkg, tc.sig, keys)
		if err == nil || !strings.Contains(err.Error(), tc.want) || openmini.ErrorCode(err) != openmini.EINVALID {
			t.Errorf("%s: err = %v, want EINVALID containing %q", name, err, tc.want)
		}
	}
}

func TestSignErrors(t *testing.T) {
	_, priv := testKey(t, 1)
	if _, err := Sign(nil, priv[:10], "k"); err == nil {
		t.Error("short key accepted")
	}
	if _, err := Sign(nil, priv, ""); err == nil {
		t.Error("empty kid accepted")
	}
}

func TestKeySetJSON(t *testing.T) {
	pub, _ := testKey(t, 3)
	out, err := MarshalKeySet(KeySet{Keys: []PublicKey{{KeyID: "k1", Key: pub}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"kty": "OKP"`, `"crv": "Ed25519"`, `"kid": "k1"`, `"alg": "EdDSA"`} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("JWKS lacks %s:\n%s", want, out)
		}
	}
	if _, err := MarshalKeySet(KeySet{Keys: []PublicKey{{KeyID: "", Key: pub}}}); err == nil {
		t.Error("key without kid marshalled")
	}
	mixed := `{"keys": [{"kty": "RSA", "kid": "r", "n": "x", "e": "AQAB"}, {"kty": "OKP", "crv": "Ed25519", "kid": "k1", "x": "` +
		strings.TrimSuffix(strings.Split(string(out), `"x": "`)[1][:43], `"`) + `"}]}`
	ks, err := ParseKeySet([]byte(mixed))
	if err != nil || len(ks.Keys) != 1 || !ks.Keys[0].Key.Equal(pub) {
		t.Fatalf("ParseKeySet(mixed) = %+v, %v", ks, err)
	}
	for _, bad := range []string{`[]`, `{"keys": []}`, `{"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "k", "x": "short"}]}`} {
		if _, err := ParseKeySet([]byte(bad)); err == nil {
			t.Errorf("ParseKeySet(%s) accepted", bad)
		}
	}
}

// memStore is a blob.Store in memory, counting writes.
type memStore struct {
	mu   sync.Mutex
	objs map[string][]byte
	puts int
}

func (m *memStore) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.objs == nil {
		m.objs = map[string][]byte{}
	}
	m.objs[key] = b
	m.puts++
	return nil
}

func (m *memStore) Get(ctx context.Context, key string) (io.ReadCloser, blob.Info, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.objs[key]
	if !ok {
		return nil, blob.Info{}, blob.ErrNotFound
	}
	return io.NopCloser(bytes.NewReader(b)), blob.Info{Key: key, Size: int64(len(b))}, nil
}

func (m *memStore) Stat(ctx context.Context, key string) (blob.Info, error) {
	_, info, err := m.Get(ctx, key)
	return info, err
}

func (m *memStore) Delete(ctx context.Context, key string) error { delete(m.objs, key); return nil }

func (m *memStore) List(ctx context.Context, prefix string) ([]blob.Info, error) {
	var out []blob.Info
	for k, b := range m.objs {
		if strings.HasPrefix(k, prefix) {
			out = append(out, blob.Info{Key: k, Size: int64(len(b)), ModTime: time.Time{}})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

func (m *memStore) Ping(ctx context.Context) error { return nil }
func (m *memStore) Close() error                   { return nil }

func TestStoreContent(t *testing.T) {
	ctx := context.Background()
	st := &memStore{}
	v1 := buildZip(t, validEntries()...)
	v2 := buildZip(t, with(entry{name: "app.js", data: "console.log('v2')"})...)
	p1, err := OpenBytes(ctx, v1, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	idx, err := StoreContent(ctx, st, p1, v1)
	if err != nil {
		t.Fatal(err)
	}
	if st.puts != len(p1.Files)+1 || len(idx.Files) != len(p1.Files) || idx.Key != PackageKey(p1.SHA256) {
		t.Fatalf("puts %d, index %+v", st.puts, idx)
	}
	for _, f := range idx.Files {
		rc, _, err := st.Get(ctx, f.Key)
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		got, _ := io.ReadAll(rc)
		want, _ := p1.File(f.Name)
		if !bytes.Equal(got, want.Data) || !strings.HasPrefix(f.Key, "files/sha256/") {
			t.Errorf("%s stored wrongly under %s", f.Name, f.Key)
		}
	}
	// A second version shares every file but app.js: only app.js and the
	// package are written.
	p2, err := OpenBytes(ctx, v2, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	before := st.puts
	if _, err := StoreContent(ctx, st, p2, v2); err != nil {
		t.Fatal(err)
	}
	if got := st.puts - before; got != 2 {
		t.Errorf("second version wrote %d objects, want 2", got)
	}
	if _, err := StoreContent(ctx, st, p2, v1); openmini.ErrorCode(err) != openmini.EINVALID {
		t.Errorf("mismatched bytes: %v", err)
	}
	if _, err := StoreContent(ctx, failingStore{st}, p2, v2); openmini.ErrorCode(err) != openmini.EUNAVAILABLE {
		t.Errorf("failing store: %v", err)
	}
}

type failingStore struct{ *memStore }

func (failingStore) Stat(ctx context.Context, key string) (blob.Info, error) {
	return blob.Info{}, io.ErrClosedPipe
}
