package blobopen_test

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openmini/openmini/blob"
	"github.com/openmini/openmini/blob/blobopen"
	"github.com/openmini/openmini/blob/fsblob"
	"github.com/openmini/openmini/blob/s3blob"
	"github.com/openmini/openmini/internal/testenv"
)

func open(t *testing.T, rawURL, dataDir string) blob.Store {
	t.Helper()
	s, err := blobopen.Open(t.Context(), rawURL, dataDir)
	if err != nil {
		t.Fatalf("Open(%q): %v", rawURL, err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	return s
}

func TestOpenFolder(t *testing.T) {
	dataDir := t.TempDir()
	abs := filepath.Join(t.TempDir(), "elsewhere")
	for _, tc := range []struct {
		url  string
		want string
	}{
		{"", filepath.Join(dataDir, "blobs")},
		{"file:", filepath.Join(dataDir, "blobs")},
		{"file://" + filepath.ToSlash(abs), abs},
		{"file://localhost" + filepath.ToSlash(abs) + "2", abs + "2"},
		{(&url.URL{Scheme: "file", Path: abs + " with space"}).String(), abs + " with space"},
	} {
		s := open(t, tc.url, dataDir)
		fs, ok := s.(*fsblob.Store)
		if !ok {
			t.Fatalf("Open(%q) = %T, want *fsblob.Store", tc.url, s)
		}
		if fs.Dir() != tc.want {
			t.Errorf("Open(%q) folder = %q, want %q", tc.url, fs.Dir(), tc.want)
		}
		if _, err := os.Stat(tc.want); err != nil {
			t.Errorf("Open(%q) did not create the folder: %v", tc.url, err)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	for _, tc := range []struct {
		url  string
		want string
	}{
		{"ftp://host/x", `--blob-url: unsupported scheme "ftp" (use file:// or s3://)`},
		{"/srv/blobs", `--blob-url: "/srv/blobs" has no scheme`},
		{"file://relative/path", "needs an absolute path"},
		{"file:relative", "needs an absolute path"},
		{"file:///", "file system root"},
		{"file:///x?y=1", "no query"},
		{"s3://", "names its bucket"},
		{"s3:///prefix", "names its bucket"},
		{"s3://b?endpont=http://x", `unknown s3 parameter "endpont"`},
		{"s3://b?path_style=yes", `path_style="yes": want true or false`},
		{"s3://b?region=a&region=b", `"region" given twice`},
		{"s3://b?access_key=a", "give both access_key and secret_key"},
		{"s3://ak:sk@b", "not before the bucket"},
		{"s3://b/p?endpoint=ftp://h&access_key=a&secret_key=TOPSECRET", "http or https"},
		{"s3://b\x7f?secret_key=TOPSECRET", "--blob-url: malformed URL"},
		{"%zz?secret_key=TOPSECRET", "--blob-url: malformed URL"},
	} {
		_, err := blobopen.Open(t.Context(), tc.url, t.TempDir())
		if err == nil {
			t.Errorf("Open(%q) succeeded", tc.url)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%q) = %q, want it to contain %q", tc.url, err, tc.want)
		}
		if !strings.HasPrefix(err.Error(), "--blob-url: ") {
			t.Errorf("Open(%q) = %q, want it to name the setting", tc.url, err)
		}
		if strings.Contains(err.Error(), "TOPSECRET") {
			t.Errorf("Open(%q) error leaks the secret: %q", tc.url, err)
		}
	}
	if _, err := blobopen.Open(t.Context(), "", ""); err == nil {
		t.Error(`Open("", "") succeeded without a data directory`)
	}
}

func TestOpenS3(t *testing.T) {
	srv := testenv.S3(t)
	s := open(t, srv.URL("openmini/blobs"), t.TempDir())
	if _, ok := s.(*s3blob.Store); !ok {
		t.Fatalf("Open(s3 URL) = %T, want *s3blob.Store", s)
	}
	if err := s.Put(t.Context(), "k", strings.NewReader("x"), 1); err != nil {
		t.Fatal(err)
	}
	// The prefix from the URL's path is where the object lands.
	if _, err := os.Stat(filepath.Join(srv.Dir, srv.Bucket, "openmini", "blobs", "k")); err != nil {
		t.Errorf("object not under the URL's prefix: %v", err)
	}
}

func TestOpenS3WrongSecret(t *testing.T) {
	srv := testenv.S3(t)
	srv.SecretKey = "TOPSECRET-wrong"
	_, err := blobopen.Open(t.Context(), srv.URL(""), t.TempDir())
	if err == nil {
		t.Fatal("Open with a wrong secret succeeded")
	}
	for _, want := range []string{"--blob-url: ", srv.Bucket, srv.Endpoint, "secret key refused"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Open error %q does not contain %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "TOPSECRET") {
		t.Errorf("Open error leaks the secret: %q", err)
	}
}

func TestOpenS3EnvCredentials(t *testing.T) {
	srv := testenv.S3(t)
	t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey)
	t.Setenv("AWS_SESSION_TOKEN", "")
	u := "s3://" + srv.Bucket + "?path_style=true&region=us-east-1&endpoint=" + url.QueryEscape(srv.Endpoint)
	open(t, u, t.TempDir())
}
