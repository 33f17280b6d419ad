package qr

import (
	"fmt"
	"strings"
	"sync"

	"rsc.io/qr/coding"

	"github.com/openmini/openmini"
)

// Level is a QR error-correction level: the share of the symbol that may be
// damaged (or covered by an icon) and still decode.
type Level string

const (
	LevelL Level = "L" // about 7%
	LevelM Level = "M" // about 15%; the default
	LevelQ Level = "Q" // about 25%
	LevelH Level = "H" // about 30%
)

// ParseLevel accepts "L", "M", "Q" or "H" (any case); "" gives LevelM.
func ParseLevel(s string) (Level, error) {
	switch strings.ToUpper(s) {
	case "":
		return LevelM, nil
	case "L", "M", "Q", "H":
		return Level(strings.ToUpper(s)), nil
	}
	return "", invalid("error-correction level %q: want L, M, Q or H", truncate(s))
}

func (l Level) coding() coding.Level {
	switch l {
	case LevelL:
		return coding.L
	case LevelQ:
		return coding.Q
	case LevelH:
		return coding.H
	}
	return coding.M
}

func (l Level) rank() int { return int(l.coding()) }

// Matrix is an encoded QR symbol without its quiet zone: Size×Size modules,
// row-major, 1 for dark.
type Matrix struct {
	Size    int
	Version int
	Level   Level
	Mask    int
	Mods    []byte
}

// Dark reports whether the module at column x, row y is dark.
func (m *Matrix) Dark(x, y int) bool { return m.Mods[y*m.Size+x] != 0 }

// encoder turns text into matrices. It encodes the data once with mask 0
// and derives the other seven masks by XOR with cached differences, then
// keeps the one with the lowest penalty as ISO/IEC 18004 asks. Plans of
// small versions (the ones short links use) are cached.
type encoder struct {
	mu    sync.RWMutex
	plans map[int]*planSet
}

// planSet is what one version and level need: the mask-0 plan and, for
// each mask, the modules that differ from mask 0 (mask pattern over data
// modules, and the format bits).
type planSet struct {
	plan0 *coding.Plan
	diff  [8][]byte
}

// maxCachedVersion bounds the plan cache: versions 1..10 at 4 levels are
// about 1 MB.
const maxCachedVersion = 10

func newEncoder() *encoder { return &encoder{plans: map[int]*planSet{}} }

func (e *encoder) planSet(v coding.Version, l coding.Level) (*planSet, error) {
	key := int(v)<<4 | int(l)
	if int(v) <= maxCachedVersion {
		e.mu.RLock()
		ps := e.plans[key]
		e.mu.RUnlock()
		if ps != nil {
			return ps, nil
		}
	}
	ps := &planSet{}
	var base [8][]byte
	for mask := coding.Mask(0); mask < 8; mask++ {
		p, err := coding.NewPlan(v, l, mask)
		if err != nil {
			return nil, err
		}
		if mask == 0 {
			ps.plan0 = p
		}
		n := len(p.Pixel)
		b := make([]byte, n*n)
		for y, row := range p.Pixel {
			for x, pix := range row {
				if pix&coding.Black != 0 {
					b[y*n+x] = 1
				}
			}
		}
		base[mask] = b
	}
	for mask := 0; mask < 8; mask++ {
		d := make([]byte, len(base[0]))
		for i := range d {
			d[i] = base[0][i] ^ base[mask][i]
		}
		ps.diff[mask] = d
	}
	if int(v) <= maxCachedVersion {
		e.mu.Lock()
		e.plans[key] = ps
		e.mu.Unlock()
	}
	return ps, nil
}

// encode returns the smallest symbol holding text at level l, in numeric,
// alphanumeric or byte mode, whichever is shortest. Text that no version
// holds gives a too_large error.
func (e *encoder) encode(text string, l Level) (*Matrix, error) {
	var enc coding.Encoding
	switch {
	case text == "":
		return nil, invalid("nothing to encode: the content is empty")
	case coding.Num(text).Check() == nil:
		enc = coding.Num(text)
	case coding.Alpha(text).Check() == nil:
		enc = coding.Alpha(text)
	default:
		enc = coding.String(text)
	}
	cl := l.coding()
	v := coding.Version(coding.MinVersion)
	for ; ; v++ {
		if v > coding.MaxVersion {
			return nil, openmini.Errorf(openmini.ETOOLARGE, "content of %d bytes is too long for a QR code at level %s", len(text), l)
		}
		if enc.Bits(v) <= v.DataBytes(cl)*8 {
			break
		}
	}
	ps, err := e.planSet(v, cl)
	if err != nil {
		return nil, fmt.Errorf("qr plan: %w", err)
	}
	c, err := ps.plan0.Encode(enc)
	if err != nil {
		return nil, fmt.Errorf("qr encode: %w", err)
	}
	n := c.Size
	m0 := make([]byte, n*n)
	for y := 0; y < n; y++ {
		row := c.Bitmap[y*c.Stride:]
		out := m0[y*n:]
		for x := 0; x < n; x++ {
			out[x] = row[x>>3] >> (7 - uint(x&7)) & 1
		}
	}
	best := &Matrix{Size: n, Version: int(v), Level: l, Mods: make([]byte, n*n)}
	cand := make([]byte, n*n)
	marks := make([]byte, n*n)
	bestPenalty := -1
	for mask := 0; mask < 8; mask++ {
		d := ps.diff[mask]
		for i := range cand {
			cand[i] = m0[i] ^ d[i]
		}
		pen := penaltyMarks(cand, n, marks) + falseFinders(marks, n)*falseFinderPenalty
		if bestPenalty < 0 || pen < bestPenalty {
			bestPenalty = pen
			best.Mask = mask
			copy(best.Mods, cand)
		}
	}
	return best, nil
}

// penalty scores a masked n×n symbol (row-major, 1 dark) with the four
// rules of ISO/IEC 18004 section 7.8.3; lower is better.
func penalty(mods []byte, n int) int { return penaltyMarks(mods, n, nil) }

// penaltyMarks is penalty that also fills marks (n*n bytes, cleared here
// when not nil) for falseFinders: bit 1 across, bit 2 down.
func penaltyMarks(mods []byte, n int, marks []byte) int {
	clear(marks)
	score := 0
	// Rules 1 (runs of five or more) and 3 (finder-like 1:1:3:1:1 with four
	// light modules on one side) along rows, then columns.
	for i := 0; i < n; i++ {
		score += linePenalty(mods, i*n, 1, n, marks, 1)
		score += linePenalty(mods, i, n, n, marks, 2)
	}
	// Rule 2: 2×2 blocks of one colour.
	for y := 0; y < n-1; y++ {
		r0 := mods[y*n : y*n+n]
		r1 := mods[(y+1)*n : (y+1)*n+n]
		for x := 0; x < n-1; x++ {
			c := r0[x]
			if c == r0[x+1] && c == r1[x] && c == r1[x+1] {
				score += 3
			}
		}
	}
	// Rule 4: balance of dark and light, 10 points per 5% away from half.
	dark := 0
	for _, c := range mods {
		dark += int(c)
	}
	total := n * n
	dev := dark*20 - total*10
	if dev < 0 {
		dev = -dev
	}
	return score + dev/total*10
}

// linePenalty scores one row or column of n modules starting at mods[start]
// and stepping by step, for rules 1 and 3. When marks is not nil it also
// ORs bit into marks over the centre run of every finder-like
// dark-light-dark-light-dark sequence with runs 1, 1, 3..5, 1, 1 (see
// falseFinders).
func linePenalty(mods []byte, start, step, n int, marks []byte, bit byte) int {
	score := 0
	prev := mods[start]
	run := 1
	window := uint16(prev)
	var runs, starts [5]int
	seen := 0
	closeRun := func(c byte, length, at int) {
		if length >= 5 {
			score += length - 2
		}
		if marks == nil {
			return
		}
		runs[0], runs[1], runs[2], runs[3], runs[4] = runs[1], runs[2], runs[3], runs[4], length
		starts[0], starts[1], starts[2], starts[3], starts[4] = starts[1], starts[2], starts[3], starts[4], at
		seen++
		if c == 1 && seen >= 5 && runs[0] == 1 && runs[1] == 1 && runs[3] == 1 && runs[4] == 1 && runs[2] >= 3 && runs[2] <= 5 {
			for k := starts[2]; k < starts[2]+runs[2]; k++ {
				marks[start+k*step] |= bit
			}
		}
	}
	for j, i := 1, start+step; j < n; j, i = j+1, i+step {
		c := mods[i]
		if c == prev {
			run++
		} else {
			closeRun(prev, run, j-run)
			run = 1
			prev = c
		}
		window = (window<<1 | uint16(c)) & 0x7ff
		if j >= 10 && (window == 0x5d0 || window == 0x05d) { // 10111010000, 00001011101
			score += 40
		}
	}
	closeRun(prev, run, n-run)
	return score
}

// falseFinderPenalty is added, beyond the standard's four rules, for every
// module that looks like the centre of a finder pattern both across and
// down. Detectors in the ZXing family accept a 1:1:3:1:1 run with a centre
// of 3 to 5 modules without the standard's light border, and a mask that
// leaves such a spot can make them lock onto it (about 1 in 100 short
// links otherwise). The standard lets the encoder pick any mask.
const falseFinderPenalty = 200

// falseFinders counts modules outside the three real finder patterns that
// lie in the centre run of a finder-like 1:1:(3-5):1:1 dark/light sequence
// both in their row and in their column, as marked by penaltyMarks.
func falseFinders(marks []byte, n int) int {
	found := 0
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			if marks[y*n+x] == 3 && !((x < 8 && y < 8) || (x >= n-8 && y < 8) || (x < 8 && y >= n-8)) {
				found++
			}
		}
	}
	return found
}
