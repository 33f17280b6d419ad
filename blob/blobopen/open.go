// Package blobopen opens the blob.Store named by the --blob-url setting. It
// is a package of its own, not part of blob, because it imports the
// adapters and they import blob.
//
// Accepted URLs:
//
//	"" or "file:"        a folder store in <data-dir>/blobs (the default)
//	file:///abs/path     a folder store in /abs/path
//	s3://BUCKET[/PREFIX][?endpoint=http://127.0.0.1:7070&region=us-east-1
//	    &access_key=...&secret_key=...&path_style=true&insecure=false]
//
// For s3, endpoint defaults to AWS, and an endpoint without a scheme means
// https; path_style=true is what most self-hosted servers need; insecure=true
// accepts any TLS certificate. Without access_key and secret_key the
// credentials come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.
package blobopen

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/openmini/openmini/blob"
	"github.com/openmini/openmini/blob/fsblob"
	"github.com/openmini/openmini/blob/s3blob"
)

// Setting is the name errors give the URL, as the operator typed it.
const Setting = "--blob-url"

// Open opens the store rawURL names; dataDir holds the default folder
// store. An S3 store is checked with Ping before Open returns. Errors start
// with Setting and never repeat the secret key.
func Open(ctx context.Context, rawURL, dataDir string) (blob.Store, error) {
	if rawURL == "" || rawURL == "file:" {
		if dataDir == "" {
			return nil, fmt.Errorf("%s: no data directory for the default blob folder", Setting)
		}
		return openDir(filepath.Join(dataDir, "blobs"))
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Error repeats the URL, secret and all; keep only the reason.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, fmt.Errorf("%s: malformed URL: %w", Setting, err)
	}
	switch u.Scheme {
	case "file":
		return openFile(u)
	case "s3":
		cfg, err := s3Config(u)
		if err != nil {
			return nil, err
		}
		s, err := s3blob.New(ctx, cfg)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", Setting, err)
		}
		return s, nil
	case "":
		return nil, fmt.Errorf("%s: %q has no scheme (use file:///absolute/path or s3://bucket)", Setting, u.Path)
	default:
		return nil, fmt.Errorf("%s: unsupported scheme %q (use file:// or s3://)", Setting, u.Scheme)
	}
}

func openFile(u *url.URL) (blob.Store, error) {
	if u.Opaque != "" || (u.Host != "" && u.Host != "localhost") {
		return nil, fmt.Errorf("%s: %q: a file URL needs an absolute path, like file:///var/lib/openmini/blobs", Setting, u.String())
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%s: %q: a file URL takes no query or fragment", Setting, u.String())
	}
	if u.Path == "" || u.Path == "/" {
		return nil, fmt.Errorf("%s: %q: refusing to store blobs in the file system root", Setting, u.String())
	}
	return openDir(filepath.FromSlash(u.Path))
}

func openDir(dir string) (blob.Store, error) {
	s, err := fsblob.New(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: folder %s: %w", Setting, dir, err)
	}
	return s, nil
}

// s3Params are the query parameters an s3 URL may carry.
var s3Params = []string{"endpoint", "region", "access_key", "secret_key", "path_style", "insecure"}

func s3Config(u *url.URL) (s3blob.Config, error) {
	if u.Opaque != "" || u.Host == "" {
		return s3blob.Config{}, fmt.Errorf("%s: an s3 URL names its bucket: s3://BUCKET/optional/prefix", Setting)
	}
	if u.User != nil {
		return s3blob.Config{}, fmt.Errorf("%s: put s3 credentials in access_key and secret_key parameters, not before the bucket", Setting)
	}
	q := u.Query()
	for name := range q {
		if !slices.Contains(s3Params, name) {
			return s3blob.Config{}, fmt.Errorf("%s: unknown s3 parameter %q (known: %s)", Setting, name, strings.Join(s3Params, ", "))
		}
		if len(q[name]) > 1 {
			return s3blob.Config{}, fmt.Errorf("%s: s3 parameter %q given twice", Setting, name)
		}
	}
	cfg := s3blob.Config{
		Bucket:    u.Host,
		Prefix:    strings.Trim(u.Path, "/"),
		Endpoint:  q.Get("endpoint"),
		Region:    q.Get("region"),
		AccessKey: q.Get("access_key"),
		SecretKey: q.Get("secret_key"),
		UseSSL:    true, // for an endpoint given without a scheme
	}
	var err error
	if cfg.PathStyle, err = boolParam(q, "path_style"); err != nil {
		return s3blob.Config{}, err
	}
	if cfg.InsecureSkipVerify, err = boolParam(q, "insecure"); err != nil {
		return s3blob.Config{}, err
	}
	if (cfg.AccessKey == "") != (cfg.SecretKey == "") {
		return s3blob.Config{}, fmt.Errorf("%s: give both access_key and secret_key, or neither (to use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)", Setting)
	}
	return cfg, nil
}

func boolParam(q url.Values, name string) (bool, error) {
	v := q.Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s: s3 parameter %s=%q: want true or false", Setting, name, v)
	}
	return b, nil
}
