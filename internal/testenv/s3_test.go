package testenv

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

func s3Client(t *testing.T, srv S3Server, secret string) *minio.Client {
	t.Helper()
	c, err := minio.New(srv.Host, &minio.Options{
		Creds:        credentials.NewStaticV4(srv.AccessKey, secret, ""),
		Region:       srv.Region,
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestS3(t *testing.T) {
	srv := S3(t)
	ctx := t.Context()
	c := s3Client(t, srv, srv.SecretKey)
	if ok, err := c.BucketExists(ctx, srv.Bucket); err != nil || !ok {
		t.Fatalf("BucketExists(%s) = %v, %v", srv.Bucket, ok, err)
	}
	if _, err := c.PutObject(ctx, srv.Bucket, "a/b.txt", bytes.NewReader([]byte("hi")), 2, minio.PutObjectOptions{}); err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	// The posix backend keeps objects as plain files.
	if b, err := os.ReadFile(filepath.Join(srv.Dir, srv.Bucket, "a", "b.txt")); err != nil || string(b) != "hi" {
		t.Errorf("object on disk = %q, %v", b, err)
	}
	if !strings.HasPrefix(srv.URL("p"), "s3://"+srv.Bucket+"/p?") {
		t.Errorf("URL = %q", srv.URL("p"))
	}
}

// TestS3RefusesWrongSecret: the server checks signatures, so tests that
// rely on it to refuse bad credentials prove something.
func TestS3RefusesWrongSecret(t *testing.T) {
	srv := S3(t)
	c := s3Client(t, srv, srv.SecretKey+"x")
	_, err := c.PutObject(t.Context(), srv.Bucket, "k", bytes.NewReader([]byte("x")), 1, minio.PutObjectOptions{})
	if err == nil {
		t.Fatal("PutObject with a wrong secret succeeded")
	}
	if code := minio.ToErrorResponse(err).Code; code != "SignatureDoesNotMatch" {
		t.Errorf("wrong secret error code = %q (%v), want SignatureDoesNotMatch", code, err)
	}
}

// TestS3Isolated: two servers in one test do not share buckets or ports.
func TestS3Isolated(t *testing.T) {
	a, b := S3(t), S3(t)
	if a.Host == b.Host || a.Bucket == b.Bucket || a.Dir == b.Dir {
		t.Fatalf("servers share state: %+v %+v", a, b)
	}
}
