package discovery

import (
	"fmt"
	"math/bits"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Text handling shared by both search engines. Documents and queries go
// through the same steps, in Go, so SQLite and PostgreSQL see the same
// tokens and no database locale or tokenizer decides what matches:
//
//   - fold: compatibility forms to plain ones (full-width "ＡＢＣ" to "abc",
//     half-width katakana to full-width), lower case, Latin diacritics
//     removed ("café" to "cafe"); kana voicing marks are kept.
//   - split: runs of letters and digits become words; runs of Chinese and
//     Japanese characters (which have no spaces) become CJK runs. Spaces
//     between two CJK characters are ignored ("星巴克 咖啡" is one run).
//   - index tokens: a word is one token; a CJK run of n characters gives its
//     n-1 overlapping bigrams followed by its last character ("星巴克" gives
//     星巴 巴克 克), so any substring of two or more characters is a phrase of
//     consecutive bigrams and any single character is a token prefix.

const (
	maxTokenRunes = 40  // longer words are cut
	maxBodyTokens = 400 // description tokens indexed per document
)

// fold normalizes s for matching.
func fold(s string) string {
	if plain(s) {
		return strings.ToLower(s)
	}
	d := norm.NFKD.String(s)
	var b strings.Builder
	b.Grow(len(d))
	for _, r := range d {
		if r >= 0x0300 && r <= 0x036F {
			continue // a combining diacritic of Latin, Greek or Cyrillic
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return norm.NFC.String(b.String())
}

// plain reports whether s holds only ASCII, kana and common CJK
// ideographs, which normalization leaves as they are.
func plain(s string) bool {
	for _, r := range s {
		switch {
		case r < 0x80, r >= 0x3040 && r <= 0x30FF, r >= 0x3400 && r <= 0x4DBF, r >= 0x4E00 && r <= 0x9FFF:
		default:
			return false
		}
	}
	return true
}

// isCJK reports whether r belongs to a script written without spaces
// between words.
func isCJK(r rune) bool {
	return unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) ||
		unicode.Is(unicode.Katakana, r) || r == 'ー' || r == '々'
}

func isWordRune(r rune) bool {
	return (unicode.IsLetter(r) || unicode.IsDigit(r)) && !isCJK(r)
}

// segment is a word or a CJK run of folded text.
type segment struct {
	text string
	cjk  bool
}

// split folds s and cuts it into segments. Apostrophes inside words are
// dropped ("McDonald's" is "mcdonalds").
func split(s string) []segment {
	s = fold(s)
	var out []segment
	var cur []rune
	curCJK := false
	flush := func() {
		if len(cur) > 0 {
			if !curCJK && len(cur) > maxTokenRunes {
				cur = cur[:maxTokenRunes]
			}
			out = append(out, segment{text: string(cur), cjk: curCJK})
			cur = cur[:0]
		}
	}
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case isCJK(r):
			if !curCJK {
				flush()
				curCJK = true
			}
			cur = append(cur, r)
		case isWordRune(r):
			if curCJK {
				flush()
				curCJK = false
			}
			cur = append(cur, r)
		case (r == '\'' || r == '’') && !curCJK && len(cur) > 0:
			// inside a word: skip
		case unicode.IsSpace(r) && curCJK && len(cur) > 0:
			// a space between two CJK characters joins them
			j := i + 1
			for j < len(rs) && unicode.IsSpace(rs[j]) {
				j++
			}
			if j < len(rs) && isCJK(rs[j]) {
				i = j - 1
				continue
			}
			flush()
		default:
			flush()
		}
	}
	flush()
	return out
}

// cjkTokens returns the index tokens of one CJK run: its bigrams, then its
// last character.
func cjkTokens(run string) []string {
	rs := []rune(run)
	out := make([]string, 0, len(rs))
	for i := 0; i+1 < len(rs); i++ {
		out = append(out, string(rs[i:i+2]))
	}
	return append(out, string(rs[len(rs)-1]))
}

// indexTokens returns the tokens of s in order, at most max (0 = no limit).
func indexTokens(s string, max int) []string {
	var out []string
	for _, seg := range split(s) {
		if seg.cjk {
			out = append(out, cjkTokens(seg.text)...)
		} else {
			out = append(out, seg.text)
		}
		if max > 0 && len(out) >= max {
			return out[:max]
		}
	}
	return out
}

// vocabularyWords returns the distinct Latin words of s that typo
// correction may suggest: letters a-z only, 3 to 32 long.
func vocabularyWords(s string, into map[string]bool) {
	for _, seg := range split(s) {
		if !seg.cjk && isVocabularyWord(seg.text) {
			into[seg.text] = true
		}
	}
}

func isVocabularyWord(w string) bool {
	if len(w) < 3 || len(w) > 32 {
		return false
	}
	for i := 0; i < len(w); i++ {
		if w[i] < 'a' || w[i] > 'z' {
			return false
		}
	}
	return true
}

// Popularity tiers let search find the most launched matches of a common
// word without reading every match: a document's tier is 0 when it was
// never launched, then 1 + floor(log4(launches)) up to maxTier, and each
// engine stores it so that matches come out highest tier first.
const maxTier = 15

func tierOf(launches int64) int64 {
	if launches <= 0 {
		return 0
	}
	return min(maxTier, 1+int64(bits.Len64(uint64(launches))-1)/2)
}

// tierPrefix is a private-use character naming tier t, which the tokenizer
// never produces from text.
func tierPrefix(t int64) string { return string(rune(0xE000 + t)) }

// tierCase is a SQL expression computing tierOf(launches).
func tierCase() string {
	var b strings.Builder
	b.WriteString("CASE")
	for t := int64(maxTier); t >= 1; t-- {
		fmt.Fprintf(&b, " WHEN launches >= %d THEN %d", int64(1)<<(2*(t-1)), t)
	}
	b.WriteString(" ELSE 0 END")
	return b.String()
}

// qterm is one term of a parsed query: every term must match.
type qterm struct {
	text   string   // folded word or CJK run
	cjk    bool     // a CJK run: a phrase of its bigrams, or one character
	prefix bool     // a word that matches words starting with it
	alts   []string // typo corrections that replace text (exact words)
}

// bigrams returns the phrase a CJK term matches, or nil for a single
// character (matched as a token prefix).
func (t qterm) bigrams() []string {
	rs := []rune(t.text)
	if len(rs) < 2 {
		return nil
	}
	out := make([]string, 0, len(rs)-1)
	for i := 0; i+1 < len(rs); i++ {
		out = append(out, string(rs[i:i+2]))
	}
	return out
}

// maxQueryTerms bounds the work one query can ask for.
const maxQueryTerms = 8

// parseQuery turns user input into terms. Words of two or more characters
// match as prefixes, so results follow the user's typing; with typing set,
// so does a one-letter last word that follows other terms ("city b").
func parseQuery(q string, typing bool) []qterm {
	var out []qterm
	seen := map[string]bool{}
	for _, seg := range split(q) {
		if seen[seg.text] {
			continue
		}
		seen[seg.text] = true
		t := qterm{text: seg.text, cjk: seg.cjk}
		if !seg.cjk && utf8.RuneCountInString(seg.text) >= 2 {
			t.prefix = true
		}
		out = append(out, t)
		if len(out) == maxQueryTerms {
			break
		}
	}
	if n := len(out); typing && n > 1 && !out[n-1].cjk {
		out[n-1].prefix = true
	}
	return out
}

// editDistance is the optimal string alignment distance (Levenshtein with
// adjacent transpositions) between a and b, or max+1 once it exceeds max.
func editDistance(a, b string, max int) int {
	ra, rb := []rune(a), []rune(b)
	if d := len(ra) - len(rb); d > max || -d > max {
		return max + 1
	}
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		if rowMin > max {
			return max + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	if prev[len(rb)] > max {
		return max + 1
	}
	return prev[len(rb)]
}

// maxEdits is how many typos a query word of n letters may hold.
func maxEdits(n int) int {
	switch {
	case n < 4:
		return 0
	case n < 7:
		return 1
	default:
		return 2
	}
}

// trigrams returns the distinct three-character pieces of " word ", the
// same padding the vocabulary index uses.
func trigrams(word string) []string {
	rs := []rune(" " + word + " ")
	seen := map[string]bool{}
	var out []string
	for i := 0; i+3 <= len(rs); i++ {
		g := string(rs[i : i+3])
		if !seen[g] {
			seen[g] = true
			out = append(out, g)
		}
	}
	return out
}
