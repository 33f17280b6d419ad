package testenv

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"go/build"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// VersityGWInstall is the command that installs the S3 server S3 starts.
const VersityGWInstall = "go install github.com/versity/versitygw/cmd/versitygw@v1.8.0"

// S3Server is a running S3-compatible server with one fresh, empty bucket.
type S3Server struct {
	Endpoint  string // base URL, "http://127.0.0.1:PORT"
	Host      string // "127.0.0.1:PORT"
	Region    string
	AccessKey string
	SecretKey string
	Bucket    string
	Dir       string // the server's storage folder; the bucket is Dir/Bucket
}

// URL returns a --blob-url for the bucket under prefix ("" for none), with
// the credentials in the query.
func (s S3Server) URL(prefix string) string {
	q := url.Values{
		"endpoint":   {s.Endpoint},
		"region":     {s.Region},
		"access_key": {s.AccessKey},
		"secret_key": {s.SecretKey},
		"path_style": {"true"},
	}
	u := url.URL{Scheme: "s3", Host: s.Bucket, Path: "/" + prefix, RawQuery: q.Encode()}
	return u.String()
}

// S3 starts a versitygw server (posix backend in t.TempDir()) on a free
// loopback port with a random root key pair, waits until it answers,
// creates a fresh bucket, and stops the server when the test ends. Startup
// takes well under a second, so every call gets its own server.
//
// The versitygw binary is looked up as $OPENMINI_VERSITYGW, on PATH, then
// in $GOBIN and $GOPATH/bin. Without it the test is skipped (failed under
// OPENMINI_TEST_REQUIRE_ALL=1) with the command that installs it.
func S3(t testing.TB) S3Server {
	t.Helper()
	bin, err := versityGW()
	if err != nil {
		Missing(t, "S3 server: %v; install it with: %s", err, VersityGWInstall)
	}
	srv := S3Server{
		Region:    "us-east-1",
		AccessKey: "AK" + s3Hex(),
		SecretKey: "SK" + s3Hex() + s3Hex(),
		Bucket:    "openmini-test-" + s3Hex(),
		Dir:       t.TempDir(),
	}
	// A free port found by listening can be taken by someone else before
	// versitygw binds it; try a few.
	var lastErr error
	for range 3 {
		if lastErr = startVersityGW(t, bin, &srv); lastErr == nil {
			break
		}
	}
	if lastErr != nil {
		t.Fatalf("start versitygw: %v", lastErr)
	}

	client, err := minio.New(srv.Host, &minio.Options{
		Creds:        credentials.NewStaticV4(srv.AccessKey, srv.SecretKey, ""),
		Region:       srv.Region,
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		t.Fatalf("versitygw client: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := client.MakeBucket(ctx, srv.Bucket, minio.MakeBucketOptions{Region: srv.Region}); err != nil {
		t.Fatalf("versitygw: create bucket %s: %v", srv.Bucket, err)
	}
	return srv
}

// startVersityGW starts the server on a fresh port and waits for it; on
// success it fills srv.Host and srv.Endpoint and registers the cleanup.
func startVersityGW(t testing.TB, bin string, srv *S3Server) error {
	t.Helper()
	port, err := s3FreePort()
	if err != nil {
		return err
	}
	host := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	cmd := exec.Command(bin,
		"--port", host,
		"--access", srv.AccessKey,
		"--secret", srv.SecretKey,
		"--region", srv.Region,
		"--quiet",
		"posix", srv.Dir,
	)
	var out s3Log
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	}

	endpoint := "http://" + host
	deadline := time.Now().Add(10 * time.Second)
	hc := &http.Client{Timeout: time.Second}
	for {
		select {
		case err := <-exited:
			return fmt.Errorf("versitygw exited (%v): %s", err, out.String())
		default:
		}
		// Any HTTP answer (an unsigned request gets 403) means it serves.
		if resp, err := hc.Get(endpoint + "/"); err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			stop()
			return fmt.Errorf("versitygw did not answer on %s within 10s: %s", host, out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	hc.CloseIdleConnections()
	t.Cleanup(stop)
	srv.Host, srv.Endpoint = host, endpoint
	return nil
}

// versityGW finds the versitygw binary.
func versityGW() (string, error) {
	if p := os.Getenv("OPENMINI_VERSITYGW"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("OPENMINI_VERSITYGW: %w", err)
		}
		return p, nil
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	var dirs []string
	if gobin := os.Getenv("GOBIN"); gobin != "" {
		dirs = append(dirs, gobin)
	}
	for _, gp := range filepath.SplitList(build.Default.GOPATH) {
		dirs = append(dirs, filepath.Join(gp, "bin"))
	}
	for _, d := range dirs {
		p := filepath.Join(d, "versitygw")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	return "", errors.New("versitygw not found on PATH, in $GOBIN or in $GOPATH/bin")
}

func s3FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func s3Hex() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// s3Log collects a child's output, written from exec's copying
// goroutines and read on failure.
type s3Log struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *s3Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *s3Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
