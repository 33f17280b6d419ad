// Package policy holds the operator's platform policy: who may register as
// a developer (admission), the package limits, whether games are allowed,
// and the app categories. The policy is one JSON document in
// platform_settings, so every replica reads the same one.
package policy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/openmini/openmini"
	"github.com/openmini/openmini/miniapp"
	"github.com/openmini/openmini/sqldb"
)

// Admission modes.
const (
	AdmissionOpen   = "open"   // anyone may sign up and create an organisation
	AdmissionInvite = "invite" // a new organisation needs an invitation from the operator
)

// Admission says who may publish.
type Admission struct {
	Mode string `json:"mode"`
	// AllowDomains, when not empty, admits only e-mail addresses in these
	// domains (and their subdomains). DenyDomains refuses them.
	AllowDomains []string `json:"allow_domains"`
	DenyDomains  []string `json:"deny_domains"`
	// AllowOrgs, when not empty, admits only organisations with these
	// names; DenyOrgs refuses them (compared without case and spaces).
	AllowOrgs []string `json:"allow_orgs"`
	DenyOrgs  []string `json:"deny_orgs"`
}

// Limits are the package limits, in the units operators think in.
type Limits struct {
	MaxPackageBytes      int64 `json:"max_package_bytes"`
	MaxUncompressedBytes int64 `json:"max_uncompressed_bytes"`
	MaxFiles             int   `json:"max_files"`
	MaxPages             int   `json:"max_pages"`
}

// Policy is the whole platform policy.
type Policy struct {
	Admission    Admission `json:"admission"`
	Limits       Limits    `json:"limits"`
	GamesEnabled bool      `json:"games_enabled"`
}

// Default is the policy of a new platform: open sign-up, WeChat-like
// package limits (2 MB, 10 MB uncompressed, 500 files, 50 pages), games on.
func Default() Policy {
	d := miniapp.DefaultLimits()
	return Policy{
		Admission:    Admission{Mode: AdmissionOpen, AllowDomains: []string{}, DenyDomains: []string{}, AllowOrgs: []string{}, DenyOrgs: []string{}},
		Limits:       Limits{MaxPackageBytes: d.MaxPackageBytes, MaxUncompressedBytes: d.MaxUncompressedBytes, MaxFiles: d.MaxFiles, MaxPages: d.MaxPages},
		GamesEnabled: true,
	}
}

// PackageLimits turns the policy's limits into the package library's.
func (p Policy) PackageLimits() miniapp.Limits {
	l := miniapp.DefaultLimits()
	l.MaxPackageBytes = p.Limits.MaxPackageBytes
	l.MaxUncompressedBytes = p.Limits.MaxUncompressedBytes
	l.MaxFileBytes = p.Limits.MaxUncompressedBytes
	l.MaxFiles = p.Limits.MaxFiles
	l.MaxPages = p.Limits.MaxPages
	return l
}

// Service reads and changes the policy and the categories.
type Service struct{ db *sqldb.DB }

// New returns the policy service.
func New(db *sqldb.DB) *Service { return &Service{db: db} }

const key = "policy"

// Get returns the current policy (Default until the operator saves one).
func (s *Service) Get(ctx context.Context) (Policy, error) {
	var raw string
	err := s.db.QueryRow(ctx, `SELECT value FROM platform_settings WHERE key = ?`, key).Scan(&raw)
	if errors.Is(err, sqldb.ErrNotFound) {
		return Default(), nil
	}
	if err != nil {
		return Policy{}, fmt.Errorf("get policy: %w", err)
	}
	p := Default()
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		return Policy{}, fmt.Errorf("get policy: stored policy is not valid JSON: %w", err)
	}
	return p, nil
}

var domainRE = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// Check returns an invalid error naming the first bad field.
func (p *Policy) Check() error {
	if p.Admission.Mode != AdmissionOpen && p.Admission.Mode != AdmissionInvite {
		return openmini.Errorf(openmini.EINVALID, "admission.mode: %q is not open or invite", p.Admission.Mode)
	}
	for _, list := range []*[]string{&p.Admission.AllowDomains, &p.Admission.DenyDomains} {
		clean := []string{}
		for _, d := range *list {
			d = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(d), "@")))
			if d == "" {
				continue
			}
			if !domainRE.MatchString(d) {
				return openmini.Errorf(openmini.EINVALID, "admission: %q is not an e-mail domain", d)
			}
			clean = append(clean, d)
		}
		*list = clean
	}
	for _, list := range []*[]string{&p.Admission.AllowOrgs, &p.Admission.DenyOrgs} {
		clean := []string{}
		for _, o := range *list {
			if o = strings.TrimSpace(o); o != "" {
				clean = append(clean, o)
			}
		}
		*list = clean
	}
	l := p.Limits
	switch {
	case l.MaxPackageBytes < 1024 || l.MaxPackageBytes > 1<<30:
		return openmini.Errorf(openmini.EINVALID, "limits.max_package_bytes: must be between 1 KB and 1 GB")
	case l.MaxUncompressedBytes < l.MaxPackageBytes || l.MaxUncompressedBytes > 4<<30:
		return openmini.Errorf(openmini.EINVALID, "limits.max_uncompressed_bytes: must be at least max_package_bytes and at most 4 GB")
	case l.MaxFiles < 5 || l.MaxFiles > 100000:
		return openmini.Errorf(openmini.EINVALID, "limits.max_files: must be between 5 and 100000")
	case l.MaxPages < 1 || l.MaxPages > 10000:
		return openmini.Errorf(openmini.EINVALID, "limits.max_pages: must be between 1 and 10000")
	}
	return nil
}

// Set saves a new policy after checking it. Only operator admins may.
func (s *Service) Set(ctx context.Context, actor openmini.Actor, p Policy) (Policy, error) {
	if !actor.IsAdmin() {
		return Policy{}, openmini.Errorf(openmini.EFORBIDDEN, "only an operator admin may change the policy")
	}
	if err := p.Check(); err != nil {
		return Policy{}, err
	}
	b, _ := json.Marshal(p)
	err := s.db.WithTx(ctx, func(tx *sqldb.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO platform_settings (key, value, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, key, string(b), time.Now().UnixMilli())
		if err != nil {
			return err
		}
		return recordAudit(ctx, tx, actor, "policy.update", p)
	})
	if err != nil {
		return Policy{}, fmt.Errorf("set policy: %w", err)
	}
	return p, nil
}

// normOrg compares organisation names without case or spaces.
func normOrg(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), "")) }

// Admit reports whether a new developer with this e-mail may create an
// organisation with this name, without an invitation (invited says one was
// presented and is valid). The error says why not.
func (p Policy) Admit(email, orgName string, invited bool) error {
	a := p.Admission
	if a.Mode == AdmissionInvite && !invited {
		return openmini.Errorf(openmini.EFORBIDDEN, "sign-up is by invitation only; ask the operator for an invitation")
	}
	domain := strings.ToLower(email[strings.LastIndexByte(email, '@')+1:])
	inDomain := func(list []string) bool {
		for _, d := range list {
			if domain == d || strings.HasSuffix(domain, "."+d) {
				return true
			}
		}
		return false
	}
	if inDomain(a.DenyDomains) {
		return openmini.Errorf(openmini.EFORBIDDEN, "e-mail addresses at %s may not register", domain)
	}
	if len(a.AllowDomains) > 0 && !inDomain(a.AllowDomains) {
		return openmini.Errorf(openmini.EFORBIDDEN, "only e-mail addresses at %s may register", strings.Join(a.AllowDomains, ", "))
	}
	if orgName != "" {
		n := normOrg(orgName)
		for _, o := range a.DenyOrgs {
			if normOrg(o) == n {
				return openmini.Errorf(openmini.EFORBIDDEN, "the organisation %q may not register", orgName)
			}
		}
		if len(a.AllowOrgs) > 0 {
			ok := false
			for _, o := range a.AllowOrgs {
				ok = ok || normOrg(o) == n
			}
			if !ok {
				return openmini.Errorf(openmini.EFORBIDDEN, "the organisation %q is not on the operator's list", orgName)
			}
		}
	}
	return nil
}
