// Package s3blob is the blob.Store on any S3-compatible server (AWS S3,
// MinIO, Ceph RGW, Garage, versitygw, ...), the choice of deployments with
// several stateless replicas.
//
// A key "a/b" is the object Prefix+"a/b" in the bucket. S3 makes every
// PutObject atomic; readers of a key see the old object or the new one.
package s3blob

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/openmini/openmini/blob"
)

// DefaultPartSize is the multipart chunk used for Puts of unknown size.
// A Put of unknown size buffers one part in memory; objects up to 10,000
// parts (160 GB at the default) can be stored.
const DefaultPartSize = 16 << 20

// minPartSize is S3's smallest multipart part.
const minPartSize = 5 << 20

// Config says which bucket to use and how to reach it.
type Config struct {
	// Endpoint is the server: "host:port", or a URL "http://host:port" /
	// "https://host" whose scheme overrides UseSSL. Empty means AWS
	// (s3.amazonaws.com, or the regional endpoint the client picks).
	Endpoint string
	// Bucket must exist; New does not create it.
	Bucket string
	// Prefix is prepended to every key ("openmini/" keeps the platform's
	// objects in one "folder" of a shared bucket). A missing trailing slash
	// is added.
	Prefix string
	// AccessKey and SecretKey sign requests. When both are empty, New reads
	// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN.
	AccessKey string
	SecretKey string
	// Region is the bucket's region; empty lets the client ask the server.
	Region string
	// UseSSL selects https for an Endpoint given without a scheme.
	UseSSL bool
	// InsecureSkipVerify accepts any TLS certificate (self-signed test
	// servers). Never use it across an untrusted network.
	InsecureSkipVerify bool
	// PathStyle forces path-style requests (http://host/bucket/key), which
	// most self-hosted servers reached by IP or plain hostname need. When
	// false the client picks (virtual-host style for AWS).
	PathStyle bool
	// PartSize is the multipart chunk in bytes for Puts of unknown size;
	// 0 means DefaultPartSize, and S3 requires at least 5 MiB.
	PartSize uint64
}

// Store is a blob.Store on an S3 bucket. It is safe for concurrent use.
type Store struct {
	client    *minio.Client
	transport *http.Transport
	bucket    string
	prefix    string
	endpoint  string // for error messages
	partSize  uint64
}

var _ blob.Store = (*Store)(nil)

// New connects to the bucket and checks it with Ping, so a wrong endpoint,
// bucket or key pair fails here with an error naming the bucket and the
// endpoint.
func New(ctx context.Context, cfg Config) (*Store, error) {
	s, err := newStore(cfg)
	if err != nil {
		return nil, err
	}
	if err := s.Ping(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// newStore builds the client without contacting the server.
func newStore(cfg Config) (*Store, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("s3blob: no bucket given")
	}
	host, secure := cfg.Endpoint, cfg.UseSSL
	if strings.Contains(host, "://") {
		u, err := url.Parse(host)
		if err != nil {
			return nil, fmt.Errorf("s3blob: endpoint: %w", err)
		}
		switch u.Scheme {
		case "http":
			secure = false
		case "https":
			secure = true
		default:
			return nil, fmt.Errorf("s3blob: endpoint %q: scheme must be http or https", cfg.Endpoint)
		}
		if u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			return nil, fmt.Errorf("s3blob: endpoint %q: want scheme://host[:port] only", cfg.Endpoint)
		}
		host = u.Host
	}
	if host == "" {
		host, secure = "s3.amazonaws.com", true
	}

	ak, sk, token := cfg.AccessKey, cfg.SecretKey, ""
	if ak == "" && sk == "" {
		ak, sk, token = os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"), os.Getenv("AWS_SESSION_TOKEN")
	}
	if ak == "" || sk == "" {
		return nil, fmt.Errorf("s3blob: bucket %q: missing credentials: give an access key and a secret key, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", cfg.Bucket)
	}

	partSize := cfg.PartSize
	if partSize == 0 {
		partSize = DefaultPartSize
	}
	if partSize < minPartSize {
		return nil, fmt.Errorf("s3blob: part size %d is below the S3 minimum of 5 MiB", partSize)
	}

	tr, err := minio.DefaultTransport(secure)
	if err != nil {
		return nil, fmt.Errorf("s3blob: transport: %w", err)
	}
	if cfg.InsecureSkipVerify {
		if tr.TLSClientConfig == nil {
			tr.TLSClientConfig = &tls.Config{}
		}
		tr.TLSClientConfig.InsecureSkipVerify = true
	}
	lookup := minio.BucketLookupAuto
	if cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	client, err := minio.New(host, &minio.Options{
		Creds:        credentials.NewStaticV4(ak, sk, token),
		Secure:       secure,
		Transport:    tr,
		Region:       cfg.Region,
		BucketLookup: lookup,
	})
	if err != nil {
		return nil, fmt.Errorf("s3blob: endpoint %q: %w", host, err)
	}
	prefix := strings.Trim(cfg.Prefix, "/")
	if prefix != "" {
		if err := blob.CheckKey(prefix); err != nil {
			return nil, fmt.Errorf("s3blob: prefix: %w", err)
		}
		prefix += "/"
	}
	scheme := "http"
	if secure {
		scheme = "https"
	}
	return &Store{
		client:    client,
		transport: tr,
		bucket:    cfg.Bucket,
		prefix:    prefix,
		endpoint:  scheme + "://" + host,
		partSize:  partSize,
	}, nil
}

// Put uploads r under key. With size -1 the upload is streamed in parts of
// Config.PartSize; S3 makes the object visible only when it is complete.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if err := blob.CheckKey(key); err != nil {
		return fmt.Errorf("s3blob: put: %w", err)
	}
	if size < -1 {
		size = -1
	}
	if size >= 0 {
		// Fail fast, before the server has the last byte, when r does not
		// hold exactly size bytes. (It also hides a Seeker, so minio does
		// not re-send a reader that can only be wrong again.)
		r = &exactReader{r: r, size: size, left: size}
	}
	_, err := s.client.PutObject(ctx, s.bucket, s.prefix+key, r, size, minio.PutObjectOptions{
		ContentType: "application/octet-stream",
		PartSize:    s.partSize,
	})
	if err != nil {
		return fmt.Errorf("s3blob: put %q: %w", key, s.mapErr(err))
	}
	return nil
}

// Get opens key for reading; a missing key gives blob.ErrNotFound.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, blob.Info, error) {
	if err := blob.CheckKey(key); err != nil {
		return nil, blob.Info{}, fmt.Errorf("s3blob: get: %w", err)
	}
	// One GET carries both the info and the bytes of one version of the
	// object. (minio.Client.GetObject would HEAD first and then GET with
	// If-Match, which fails if the key is overwritten in between.)
	body, oi, _, err := minio.Core{Client: s.client}.GetObject(ctx, s.bucket, s.prefix+key, minio.GetObjectOptions{})
	if err != nil {
		return nil, blob.Info{}, fmt.Errorf("s3blob: get %q: %w", key, s.mapErr(err))
	}
	return body, blob.Info{Key: key, Size: oi.Size, ModTime: oi.LastModified}, nil
}

// Stat describes key; a missing key gives blob.ErrNotFound.
func (s *Store) Stat(ctx context.Context, key string) (blob.Info, error) {
	if err := blob.CheckKey(key); err != nil {
		return blob.Info{}, fmt.Errorf("s3blob: stat: %w", err)
	}
	oi, err := s.client.StatObject(ctx, s.bucket, s.prefix+key, minio.StatObjectOptions{})
	if err != nil {
		return blob.Info{}, fmt.Errorf("s3blob: stat %q: %w", key, s.mapErr(err))
	}
	return blob.Info{Key: key, Size: oi.Size, ModTime: oi.LastModified}, nil
}

// Delete removes key; a missing key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := blob.CheckKey(key); err != nil {
		return fmt.Errorf("s3blob: delete: %w", err)
	}
	err := s.client.RemoveObject(ctx, s.bucket, s.prefix+key, minio.RemoveObjectOptions{})
	if err != nil {
		if err = s.mapErr(err); errors.Is(err, blob.ErrNotFound) {
			return nil
		}
		return fmt.Errorf("s3blob: delete %q: %w", key, err)
	}
	return nil
}

// List returns the objects whose keys start with prefix, sorted by key.
func (s *Store) List(ctx context.Context, prefix string) ([]blob.Info, error) {
	if err := blob.CheckPrefix(prefix); err != nil {
		return nil, fmt.Errorf("s3blob: list: %w", err)
	}
	var out []blob.Info
	for oi := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{
		Prefix:    s.prefix + prefix,
		Recursive: true,
	}) {
		if oi.Err != nil {
			return nil, fmt.Errorf("s3blob: list %q: %w", prefix, s.mapErr(oi.Err))
		}
		key := strings.TrimPrefix(oi.Key, s.prefix)
		if strings.HasSuffix(key, "/") {
			continue // a "folder" marker made by another tool, not a blob
		}
		out = append(out, blob.Info{Key: key, Size: oi.Size, ModTime: oi.LastModified})
	}
	// S3 lists in UTF-8 byte order already; sorting keeps the promise for
	// servers that do not.
	slices.SortFunc(out, func(a, b blob.Info) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// Ping checks that the bucket exists and that the key pair is accepted.
// The error names the bucket and the endpoint.
func (s *Store) Ping(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err == nil && ok {
		return nil
	}
	// BucketExists is a HEAD, whose answer has no body: a refused key shows
	// as a bare "Access Denied", and some servers answer an unknown key with
	// 404. A one-key listing (a GET) carries the server's precise reason.
	for oi := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix, MaxKeys: 1}) {
		if oi.Err != nil {
			err = oi.Err
			break
		}
	}
	if err == nil && !ok {
		return fmt.Errorf("s3blob: bucket %q does not exist at %s", s.bucket, s.endpoint)
	}
	if minio.ToErrorResponse(err).Code == minio.NoSuchBucket {
		return fmt.Errorf("s3blob: bucket %q does not exist at %s", s.bucket, s.endpoint)
	}
	return fmt.Errorf("s3blob: bucket %q at %s: %w", s.bucket, s.endpoint, s.mapErr(err))
}

// Close drops idle connections. The store must not be used afterwards.
func (s *Store) Close() error {
	s.transport.CloseIdleConnections()
	return nil
}

// mapErr maps S3 error codes to blob.ErrNotFound and turns a refused
// signature into a message an operator can act on.
func (s *Store) mapErr(err error) error {
	resp := minio.ToErrorResponse(err)
	switch resp.Code {
	case minio.NoSuchKey:
		return fmt.Errorf("%w: %w", blob.ErrNotFound, err)
	case "SignatureDoesNotMatch":
		return fmt.Errorf("secret key refused by the server (SignatureDoesNotMatch): %w", err)
	case "InvalidAccessKeyId", "XAdminUserNotFound": // the second is versitygw's
		return fmt.Errorf("access key unknown to the server (%s): %w", resp.Code, err)
	case minio.NoSuchBucket:
		return fmt.Errorf("bucket %q does not exist: %w", s.bucket, err)
	}
	if resp.StatusCode == http.StatusForbidden {
		return fmt.Errorf("access denied (HTTP 403 %s): check the access key, the secret key and the bucket's permissions: %w", resp.Code, err)
	}
	return err
}

// exactReader yields r's bytes when r holds exactly size of them, and an
// error otherwise: early EOF, or (withholding the last chunk, so the server
// never sees a complete body) more bytes than announced.
type exactReader struct {
	r          io.Reader
	size, left int64
}

func (e *exactReader) Read(p []byte) (int, error) {
	if e.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > e.left {
		p = p[:e.left]
	}
	n, err := e.r.Read(p)
	e.left -= int64(n)
	if e.left > 0 {
		if err == io.EOF {
			return n, fmt.Errorf("size mismatch: announced %d bytes, reader ended after %d: %w", e.size, e.size-e.left, io.ErrUnexpectedEOF)
		}
		return n, err
	}
	if err != nil && err != io.EOF {
		return n, err
	}
	var one [1]byte
	if m, _ := io.ReadFull(e.r, one[:]); m > 0 {
		return 0, fmt.Errorf("size mismatch: reader holds more than the announced %d bytes", e.size)
	}
	return n, nil
}
