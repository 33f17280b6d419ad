package app

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/audit"
	"github.com/openmini/openmini/blob"
	"github.com/openmini/openmini/miniapp"
	"github.com/openmini/openmini/org"
	"github.com/openmini/openmini/sqldb"
)

// Version states.
const (
	StateDevelopment = "development" // uploaded; only the organisation sees it (and testers, as the trial)
	StateReview      = "review"      // submitted, waiting for a reviewer
	StateRejected    = "rejected"    // a reviewer said no, with a reason
	StateApproved    = "approved"    // a reviewer said yes; ready to release
	StateReleased    = "released"    // has been released to users
)

// File is one file of a stored version, with where its bytes (and a
// gzip-compressed copy, for text files where that helps) live.
type File struct {
	Name     string `json:"name"`
	SHA256   string `json:"sha256"`
	Size     int64  `json:"size"`
	Key      string `json:"key"`
	GzipKey  string `json:"gzip_key,omitempty"`
	GzipSize int64  `json:"gzip_size,omitempty"`
}

// Version is one uploaded package of an app.
type Version struct {
	ID           int64             `json:"id"`
	AppID        string            `json:"app_id"`
	Version      string            `json:"version"`
	Code         int64             `json:"code"`
	Note         string            `json:"note"`
	State        string            `json:"state"`
	Trial        bool              `json:"trial"`
	SHA256       string            `json:"sha256"`
	Size         int64             `json:"size"`
	Uncompressed int64             `json:"uncompressed_size"`
	PackageKey   string            `json:"-"`
	Signature    json.RawMessage   `json:"signature"`
	Manifest     *miniapp.Manifest `json:"manifest"`
	Files        []File            `json:"files,omitempty"`
	UploadedBy   string            `json:"uploaded_by"`
	CreatedAt    time.Time         `json:"created_at"`
	SubmittedAt  time.Time         `json:"submitted_at,omitzero"`
	ReviewedBy   string            `json:"reviewed_by,omitempty"`
	ReviewedAt   time.Time         `json:"reviewed_at,omitzero"`
	ReviewReason string            `json:"review_reason,omitempty"`
	ReleasedAt   time.Time         `json:"released_at,omitzero"`
	Warnings     []miniapp.Problem `json:"warnings,omitempty"`
}

// File returns the named file of the version.
func (v *Version) File(name string) (File, bool) {
	for _, f := range v.Files {
		if f.Name == name {
			return f, true
		}
	}
	return File{}, false
}

const versionCols = `v.id, v.app_id, v.version, v.code, v.note, v.state, COALESCE(a.trial_version_id, 0), v.pkg_sha256, v.pkg_size, v.uncompressed,
	v.pkg_key, v.signature, v.manifest, v.files, v.uploaded_by, v.created_at, v.submitted_at, v.reviewed_by, v.reviewed_at, v.review_reason, v.released_at`

// versionRow holds the columns of versionCols before decoding.
type versionRow struct {
	v                        Version
	trial, at, sub, rev, rel int64
	sig, manifest, files     string
}

// targets returns the Scan destinations of versionCols.
func (r *versionRow) targets() []any {
	v := &r.v
	return []any{&v.ID, &v.AppID, &v.Version, &v.Code, &v.Note, &v.State, &r.trial, &v.SHA256, &v.Size, &v.Uncompressed,
		&v.PackageKey, &r.sig, &r.manifest, &r.files, &v.UploadedBy, &r.at, &r.sub, &v.ReviewedBy, &r.rev, &v.ReviewReason, &r.rel}
}

// decode finishes the Version from the raw columns.
func (r *versionRow) decode() (Version, error) {
	v := r.v
	v.Trial = r.trial == v.ID
	v.Signature = json.RawMessage(r.sig)
	v.Manifest = &miniapp.Manifest{}
	if err := json.Unmarshal([]byte(r.manifest), v.Manifest); err != nil {
		return v, fmt.Errorf("version %d: stored manifest: %w", v.ID, err)
	}
	if err := json.Unmarshal([]byte(r.files), &v.Files); err != nil {
		return v, fmt.Errorf("version %d: stored file list: %w", v.ID, err)
	}
	v.CreatedAt = time.UnixMilli(r.at)
	v.SubmittedAt = msTime(r.sub)
	v.ReviewedAt = msTime(r.rev)
	v.ReleasedAt = msTime(r.rel)
	return v, nil
}

func scanVersion(row interface{ Scan(...any) error }) (Version, error) {
	var r versionRow
	if err := row.Scan(r.targets()...); err != nil {
		return r.v, err
	}
	return r.decode()
}

func msTime(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

func (s *Service) versionBy(ctx context.Context, q sqldb.Querier, where string, args ...any) (Version, error) {
	v, err := scanVersion(q.QueryRow(ctx, `SELECT `+versionCols+` FROM versions v JOIN apps a ON a.id = v.app_id WHERE `+where, args...))
	if errors.Is(err, sqldb.ErrNotFound) {
		return v, openmini.Errorf(openmini.ENOTFOUND, "no such version")
	}
	return v, err
}

// VersionByID returns a version without checking who asks.
func (s *Service) VersionByID(ctx context.Context, id int64) (Version, error) {
	return s.versionBy(ctx, s.db, `v.id = ?`, id)
}

// Version returns an app's version by its name (viewers and up).
func (s *Service) Version(ctx context.Context, actor openmini.Actor, appID, version string) (Version, error) {
	if _, err := s.Require(ctx, actor, appID, org.RoleViewer); err != nil {
		return Version{}, err
	}
	v, err := s.versionBy(ctx, s.db, `v.app_id = ? AND v.version = ?`, appID, version)
	if openmini.ErrorCode(err) == openmini.ENOTFOUND {
		return v, openmini.Errorf(openmini.ENOTFOUND, "%s has no version %q", appID, version)
	}
	return v, err
}

// Versions lists an app's versions, newest first, without file lists.
func (s *Service) Versions(ctx context.Context, actor openmini.Actor, appID string) ([]Version, error) {
	if _, err := s.Require(ctx, actor, appID, org.RoleViewer); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT `+versionCols+` FROM versions v JOIN apps a ON a.id = v.app_id WHERE v.app_id = ? ORDER BY v.id DESC`, appID)
	if err != nil {
		return nil, fmt.Errorf("list versions: %w", err)
	}
	defer rows.Close()
	out := []Version{}
	for rows.Next() {
		v, err := scanVersion(rows)
		if err != nil {
			return nil, err
		}
		v.Files = nil
		out = append(out, v)
	}
	return out, rows.Err()
}

var versionRE = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z.+_-]{0,39}$`)

// Upload is a package sent by a developer.
type Upload struct {
	Package []byte
	Version string // the version name; default the manifest's version.name
	Note    string
}

// Upload validates a package under the operator's limits, stores it
// content-addressed (files shared with earlier versions are stored once),
// signs it and records it as a development version (developers and up).
// A package that fails validation gives an invalid or too_large error
// listing every problem; nothing is stored for it.
func (s *Service) Upload(ctx context.Context, actor openmini.Actor, appID string, up Upload) (Version, error) {
	a, err := s.Require(ctx, actor, appID, org.RoleDeveloper)
	if err != nil {
		return Version{}, err
	}
	pol, err := s.policy.Get(ctx)
	if err != nil {
		return Version{}, err
	}
	lim := pol.PackageLimits()
	if int64(len(up.Package)) > lim.MaxPackageBytes {
		return Version{}, openmini.Errorf(openmini.ETOOLARGE, "package: %d bytes is more than the operator's limit of %d bytes", len(up.Package), lim.MaxPackageBytes)
	}
	pkg, err := miniapp.OpenBytes(ctx, up.Package, lim)
	if err != nil {
		return Version{}, err
	}
	name := strings.TrimSpace(up.Version)
	if name == "" {
		name = pkg.Manifest.Version.Name
	}
	if !versionRE.MatchString(name) {
		return Version{}, openmini.Errorf(openmini.EINVALID, "version: %q must be 1 to 40 letters, digits and . + _ - (like 1.2.0)", name)
	}
	note := strings.TrimSpace(up.Note)
	if utf8.RuneCountInString(note) > 1000 {
		return Version{}, openmini.Errorf(openmini.EINVALID, "note: at most 1000 characters")
	}
	var exists int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM versions WHERE app_id = ? AND version = ?`, appID, name).Scan(&exists); err != nil {
		return Version{}, err
	}
	if exists > 0 {
		return Version{}, openmini.Errorf(openmini.ECONFLICT, "version: %s already has a version %s; give a new one with --version", appID, name)
	}
	idx, err := miniapp.StoreContent(ctx, s.blob, pkg, up.Package)
	if err != nil {
		return Version{}, err
	}
	files := make([]File, 0, len(idx.Files))
	var total int64
	for i, fe := range idx.Files {
		f := File{Name: fe.Name, SHA256: fe.SHA256, Size: fe.Size, Key: fe.Key}
		total += fe.Size
		if gz, ok := gzipWorthIt(fe.Name, pkg.Files[i].Data); ok {
			f.GzipKey = fe.Key + ".gz"
			f.GzipSize = int64(len(gz))
			if err := putOnce(ctx, s.blob, f.GzipKey, gz); err != nil {
				return Version{}, err
			}
		}
		files = append(files, f)
	}
	sig, err := s.keys.Sign(up.Package)
	if err != nil {
		return Version{}, err
	}
	manifest, _ := json.Marshal(pkg.Manifest)
	filesJSON, _ := json.Marshal(files)
	now := s.now()
	var id int64
	err = s.db.WithTx(ctx, func(tx *sqldb.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO versions (app_id, version, code, note, state, pkg_sha256, pkg_size, pkg_key, signature, manifest, files,
			uncompressed, uploaded_by, created_at) VALUES (?, ?, ?, ?, 'development', ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			appID, name, pkg.Manifest.Version.Code, note, idx.SHA256, idx.Size, idx.Key, string(sig), string(manifest), string(filesJSON),
			total, actor.Label, now.UnixMilli()).Scan(&id)
		if errors.Is(err, sqldb.ErrUnique) {
			return openmini.Errorf(openmini.ECONFLICT, "version: %s already has a version %s", appID, name)
		}
		if err != nil {
			return fmt.Errorf("record version: %w", err)
		}
		return audit.Record(ctx, tx, actor, a.OrgID, appID, "version.upload", map[string]any{"version": name, "sha256": idx.SHA256, "size": idx.Size})
	})
	if err != nil {
		return Version{}, err
	}
	v, err := s.VersionByID(ctx, id)
	v.Warnings = pkg.Warnings
	return v, err
}

// gzipWorthIt compresses text files of 1 KB and more and keeps the result
// when it saves at least a tenth.
func gzipWorthIt(name string, data []byte) ([]byte, bool) {
	if len(data) < 1024 {
		return nil, false
	}
	switch strings.ToLower(path.Ext(name)) {
	case ".html", ".htm", ".css", ".js", ".mjs", ".json", ".svg", ".txt", ".xml", ".md", ".map", ".wasm":
	default:
		return nil, false
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(data)
	zw.Close()
	if buf.Len() > len(data)*9/10 {
		return nil, false
	}
	return buf.Bytes(), true
}

func putOnce(ctx context.Context, st blob.Store, key string, data []byte) error {
	if _, err := st.Stat(ctx, key); err == nil {
		return nil
	} else if !errors.Is(err, blob.ErrNotFound) {
		return &openmini.Error{Code: openmini.EUNAVAILABLE, Message: "blob store unavailable", Err: err}
	}
	if err := st.Put(ctx, key, bytes.NewReader(data), int64(len(data))); err != nil {
		return &openmini.Error{Code: openmini.EUNAVAILABLE, Message: "blob store unavailable", Err: err}
	}
	return nil
}

// HashHex is the hex SHA-256 of b.
func HashHex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// SetTrial makes a version the app's trial version, which members and
// testers can open (developers and up). Any version that was not rejected
// may be the trial.
func (s *Service) SetTrial(ctx context.Context, actor openmini.Actor, appID, version string) (Version, error) {
	a, err := s.Require(ctx, actor, appID, org.RoleDeveloper)
	if err != nil {
		return Version{}, err
	}
	v, err := s.Version(ctx, actor, appID, version)
	if err != nil {
		return Version{}, err
	}
	if v.State == StateRejected {
		return Version{}, openmini.Errorf(openmini.ECONFLICT, "version %s was rejected; upload a fixed version for trial", version)
	}
	err = s.db.WithTx(ctx, func(tx *sqldb.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE apps SET trial_version_id = ?, updated_at = ? WHERE id = ?`, v.ID, s.now().UnixMilli(), appID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, actor, a.OrgID, appID, "version.trial", map[string]any{"version": version})
	})
	v.Trial = err == nil
	return v, err
}

// ClearTrial removes the app's trial version.
func (s *Service) ClearTrial(ctx context.Context, actor openmini.Actor, appID string) error {
	a, err := s.Require(ctx, actor, appID, org.RoleDeveloper)
	if err != nil {
		return err
	}
	return s.db.WithTx(ctx, func(tx *sqldb.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE apps SET trial_version_id = NULL, updated_at = ? WHERE id = ?`, s.now().UnixMilli(), appID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, actor, a.OrgID, appID, "version.trial.clear", nil)
	})
}

// Submit sends a development (or rejected) version to review.
func (s *Service) Submit(ctx context.Context, actor openmini.Actor, appID, version string) (Version, error) {
	a, err := s.Require(ctx, actor, appID, org.RoleDeveloper)
	if err != nil {
		return Version{}, err
	}
	v, err := s.Version(ctx, actor, appID, version)
	if err != nil {
		return Version{}, err
	}
	switch v.State {
	case StateDevelopment, StateRejected:
	case StateReview:
		return Version{}, openmini.Errorf(openmini.ECONFLICT, "version %s is already waiting for review", version)
	default:
		return Version{}, openmini.Errorf(openmini.ECONFLICT, "version %s is %s; only development or rejected versions can be submitted", version, v.State)
	}
	err = s.db.WithTx(ctx, func(tx *sqldb.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE versions SET state = 'review', submitted_at = ?, review_reason = '' WHERE id = ? AND state = ?`, s.now().UnixMilli(), v.ID, v.State)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return openmini.Errorf(openmini.ECONFLICT, "version %s changed meanwhile; try again", version)
		}
		return audit.Record(ctx, tx, actor, a.OrgID, appID, "version.submit", map[string]any{"version": version})
	})
	if err != nil {
		return Version{}, err
	}
	return s.VersionByID(ctx, v.ID)
}

// VersionBySHA returns the app's version whose package has this SHA-256
// (hex), without checking who asks: the per-app origin serves files by
// package digest.
func (s *Service) VersionBySHA(ctx context.Context, appID, sha string) (Version, error) {
	return s.versionBy(ctx, s.db, `v.app_id = ? AND v.pkg_sha256 = ? ORDER BY v.id LIMIT 1`, appID, sha)
}
