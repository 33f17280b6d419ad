package miniapp

import (
	"errors"
	"fmt"
	"strings"

	"github.com/openmini/openmini"
)

// Limits is the operator's package policy. Every field must be positive;
// [DefaultLimits] gives the platform defaults.
type Limits struct {
	MaxPackageBytes      int64 // size of the .ma file itself (compressed)
	MaxUncompressedBytes int64 // all files together, after decompression
	MaxFileBytes         int64 // any one file, after decompression
	MaxFiles             int   // regular files in the package
	MaxPages             int   // entries in the manifest's pages
	// WarnImageBytes is the size above which an image earns a warning.
	WarnImageBytes int64
}

// DefaultLimits returns the platform defaults: 2 MB compressed, 10 MB
// uncompressed (and per file), 500 files, 50 pages, and a warning for
// images over 200 KB. An operator can be as strict as WeChat once was
// (5 pages, 1 MB) or more generous.
func DefaultLimits() Limits {
	return Limits{
		MaxPackageBytes:      2 << 20,
		MaxUncompressedBytes: 10 << 20,
		MaxFileBytes:         10 << 20,
		MaxFiles:             500,
		MaxPages:             50,
		WarnImageBytes:       200 << 10,
	}
}

// check reports a limit that cannot work.
func (l Limits) check() error {
	if l.MaxPackageBytes <= 0 || l.MaxUncompressedBytes <= 0 || l.MaxFileBytes <= 0 ||
		l.MaxFiles <= 0 || l.MaxPages <= 0 {
		return openmini.Errorf(openmini.EINVALID, "package limits must all be positive: %+v", l)
	}
	return nil
}

// Problem is one error or warning about a package. File is the path inside
// the package that the problem concerns, or "" for the package as a whole.
type Problem struct {
	File    string `json:"file"`
	Message string `json:"message"`
}

func (p Problem) String() string {
	if p.File == "" {
		return p.Message
	}
	return p.File + ": " + p.Message
}

// ValidationError lists every problem that makes a package unacceptable.
// Open, OpenDir and Pack return it wrapped in an *openmini.Error whose code
// is openmini.ETOOLARGE when a limit was exceeded and openmini.EINVALID
// otherwise; find it with errors.As.
type ValidationError struct {
	Problems []Problem
	Warnings []Problem // warnings found before the package was refused, if any
	tooLarge bool
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// Problems returns the problems inside err if it carries a
// *ValidationError, and nil otherwise.
func Problems(err error) []Problem {
	var ve *ValidationError
	if errors.As(err, &ve) {
		return ve.Problems
	}
	return nil
}

// maxProblems caps the problems reported for one package; a crafted
// archive with thousands of bad entries gets a summary line instead.
const maxProblems = 100

// problems collects errors while a package is checked.
type problems struct {
	list     []Problem
	more     int // problems past maxProblems, counted but not kept
	tooLarge bool
}

func (ps *problems) add(file, format string, args ...any) {
	if len(ps.list) >= maxProblems {
		ps.more++
		return
	}
	ps.list = append(ps.list, Problem{File: file, Message: fmt.Sprintf(format, args...)})
}

// tooBig records a limit being exceeded.
func (ps *problems) tooBig(file, format string, args ...any) {
	ps.tooLarge = true
	ps.add(file, format, args...)
}

func (ps *problems) any() bool { return len(ps.list) > 0 }

// err turns the collected problems into the service error, or nil.
func (ps *problems) err() error {
	if len(ps.list) == 0 {
		return nil
	}
	if ps.more > 0 {
		ps.list = append(ps.list, Problem{Message: fmt.Sprintf("%d more problems not shown", ps.more)})
		ps.more = 0
	}
	code := openmini.EINVALID
	if ps.tooLarge {
		code = openmini.ETOOLARGE
	}
	msg := "invalid package: " + ps.list[0].String()
	if n := len(ps.list) - 1 + ps.more; n == 1 {
		msg += " (and 1 more problem)"
	} else if n > 1 {
		msg += fmt.Sprintf(" (and %d more problems)", n)
	}
	return &openmini.Error{Code: code, Message: msg, Err: &ValidationError{Problems: ps.list, tooLarge: ps.tooLarge}}
}

// humanBytes formats a byte count for messages.
func humanBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KB", n>>10)
	default:
		return fmt.Sprintf("%d bytes", n)
	}
}
