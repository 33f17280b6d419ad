package discovery

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"html"
	"io"
	"math"
	"strconv"
	"strings"
)

// WriteCSV writes the report as CSV: a header, then one row per day.
// Amounts are minor units; rates are fractions with four decimals, empty
// when unknown; session length is in seconds.
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	header := []string{"day", "launches", "anonymous_launches", "unique_users", "new_users", "avg_session_seconds"}
	for _, sc := range Scenes {
		header = append(header, "scene_"+string(sc))
	}
	header = append(header, "day1_retained", "day1_rate", "day7_retained", "day7_rate",
		"payments", "payment_amount_minor", "scans", "qr_launches", "scanners", "scan_payers", "conversion")
	if err := cw.Write(header); err != nil {
		return err
	}
	i := strconv.FormatInt
	for _, d := range r.Days {
		row := []string{d.Day, i(d.Launches, 10), i(d.AnonymousLaunches, 10), i(d.UniqueUsers, 10), i(d.NewUsers, 10),
			strconv.FormatFloat(float64(d.AvgSessionMs)/1000, 'f', 1, 64)}
		for _, sc := range Scenes {
			row = append(row, i(d.Scenes[sc], 10))
		}
		row = append(row, i(d.Day1Retained, 10), csvRate(d.Day1Rate), i(d.Day7Retained, 10), csvRate(d.Day7Rate),
			i(d.Payments, 10), i(d.PaymentAmount, 10), i(d.Scans, 10), i(d.QRLaunches, 10), i(d.Scanners, 10),
			i(d.ScanPayers, 10), csvRate(d.Conversion))
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func csvRate(r *float64) string {
	if r == nil {
		return ""
	}
	return strconv.FormatFloat(*r, 'f', 4, 64)
}

// Metrics a report can chart.
var chartMetrics = map[string]struct {
	title string
	value func(DayStats) float64
}{
	"launches":       {"Launches", func(d DayStats) float64 { return float64(d.Launches) }},
	"unique_users":   {"Unique users", func(d DayStats) float64 { return float64(d.UniqueUsers) }},
	"new_users":      {"New users", func(d DayStats) float64 { return float64(d.NewUsers) }},
	"avg_session":    {"Average session (s)", func(d DayStats) float64 { return float64(d.AvgSessionMs) / 1000 }},
	"payments":       {"Payments", func(d DayStats) float64 { return float64(d.Payments) }},
	"payment_amount": {"Payment amount", func(d DayStats) float64 { return float64(d.PaymentAmount) / 100 }},
	"scans":          {"QR scans", func(d DayStats) float64 { return float64(d.Scans) }},
}

// Chart returns a chart of metrics over the report's days: "launches",
// "unique_users", "new_users", "avg_session", "payments",
// "payment_amount" (in major units, minor/100) or "scans"; "scenes" gives
// one series per source. Errors: invalid for an unknown metric.
func (r *Report) Chart(kind ChartKind, metrics ...string) (Chart, error) {
	c := Chart{Kind: kind}
	for _, d := range r.Days {
		c.Labels = append(c.Labels, d.Day[5:]) // MM-DD
	}
	for _, m := range metrics {
		if m == "scenes" {
			for _, sc := range Scenes {
				s := Series{Name: string(sc)}
				nonzero := false
				for _, d := range r.Days {
					s.Values = append(s.Values, float64(d.Scenes[sc]))
					nonzero = nonzero || d.Scenes[sc] > 0
				}
				if nonzero {
					c.Series = append(c.Series, s)
				}
			}
			continue
		}
		cm, ok := chartMetrics[m]
		if !ok {
			return Chart{}, invalid("metric: unknown %.40q", m)
		}
		s := Series{Name: cm.title}
		for _, d := range r.Days {
			s.Values = append(s.Values, cm.value(d))
		}
		c.Series = append(c.Series, s)
	}
	c.Title = strings.Join(metrics, ", ")
	if len(c.Series) == 1 {
		c.Title = c.Series[0].Name
	}
	return c, nil
}

// ChartKind is how values are drawn.
type ChartKind string

// Chart kinds.
const (
	LineChart ChartKind = "line"
	BarChart  ChartKind = "bar"
)

// Chart is a small chart of series over labelled points.
type Chart struct {
	Title  string
	Kind   ChartKind // LineChart (default) or BarChart
	Labels []string  // one per point, along the x axis
	Series []Series
	Width  int // default 640
	Height int // default 260
}

// Series is one named row of values, one per label.
type Series struct {
	Name   string
	Values []float64
}

var palette = []string{"#2563eb", "#16a34a", "#dc2626", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563", "#65a30d"}

// SVG renders the chart as a standalone SVG document: no script, no
// external resources, text escaped, scaled by its viewBox.
func (c Chart) SVG() []byte {
	w, h := c.Width, c.Height
	if w <= 0 {
		w = 640
	}
	if h <= 0 {
		h = 260
	}
	const left, right, top, bottom = 48.0, 12.0, 28.0, 44.0
	pw, ph := float64(w)-left-right, float64(h)-top-bottom
	hi := 0.0
	for _, s := range c.Series {
		for _, v := range s.Values {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				hi = math.Max(hi, v)
			}
		}
	}
	step, top1 := niceScale(hi)
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" font-family="sans-serif" font-size="11">`, w, h, w, h)
	fmt.Fprintf(&b, `<title>%s</title>`, html.EscapeString(c.Title))
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/>`, w, h)
	fmt.Fprintf(&b, `<text x="%g" y="16" font-size="13" font-weight="bold" fill="#111">%s</text>`, left, html.EscapeString(c.Title))
	y := func(v float64) float64 { return top + ph - ph*v/top1 }
	for v := 0.0; v <= top1+step/2; v += step {
		fmt.Fprintf(&b, `<line x1="%g" y1="%.1f" x2="%g" y2="%.1f" stroke="#e5e7eb"/>`, left, y(v), left+pw, y(v))
		fmt.Fprintf(&b, `<text x="%g" y="%.1f" text-anchor="end" fill="#6b7280">%s</text>`, left-6, y(v)+4, formatTick(v))
	}
	n := len(c.Labels)
	for _, s := range c.Series {
		n = max(n, len(s.Values))
	}
	if n > 0 {
		slot := pw / float64(n)
		every := max(1, (n+9)/10) // at most about ten labels
		for i := 0; i < len(c.Labels); i += every {
			fmt.Fprintf(&b, `<text x="%.1f" y="%g" text-anchor="middle" fill="#6b7280">%s</text>`,
				left+slot*(float64(i)+0.5), top+ph+16, html.EscapeString(c.Labels[i]))
		}
		for si, s := range c.Series {
			color := palette[si%len(palette)]
			if c.Kind == BarChart {
				bw := slot * 0.8 / float64(len(c.Series))
				for i, v := range s.Values {
					if math.IsNaN(v) || v <= 0 {
						continue
					}
					x := left + slot*float64(i) + slot*0.1 + bw*float64(si)
					fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s: %s</title></rect>`,
						x, y(v), bw, top+ph-y(v), color, html.EscapeString(s.Name), html.EscapeString(label(c.Labels, i)), formatTick(v))
				}
				continue
			}
			var pts []string
			for i, v := range s.Values {
				if math.IsNaN(v) {
					continue
				}
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", left+slot*(float64(i)+0.5), y(v)))
			}
			fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>`, strings.Join(pts, " "), color)
		}
	}
	fmt.Fprintf(&b, `<line x1="%g" y1="%g" x2="%g" y2="%g" stroke="#9ca3af"/>`, left, top+ph, left+pw, top+ph)
	if len(c.Series) > 1 {
		x := left
		for si, s := range c.Series {
			fmt.Fprintf(&b, `<rect x="%.1f" y="%g" width="10" height="10" fill="%s"/><text x="%.1f" y="%g" fill="#374151">%s</text>`,
				x, float64(h)-14, palette[si%len(palette)], x+14, float64(h)-5, html.EscapeString(s.Name))
			x += 24 + 7*float64(len([]rune(s.Name)))
		}
	}
	b.WriteString(`</svg>`)
	return b.Bytes()
}

func label(labels []string, i int) string {
	if i < len(labels) {
		return labels[i]
	}
	return ""
}

// niceScale picks a tick step of 1, 2 or 5 x 10^k giving about four ticks,
// and the axis top.
func niceScale(hi float64) (step, top float64) {
	if hi <= 0 {
		return 1, 4
	}
	raw := hi / 4
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	switch f := raw / mag; {
	case f <= 1:
		step = mag
	case f <= 2:
		step = 2 * mag
	case f <= 5:
		step = 5 * mag
	default:
		step = 10 * mag
	}
	return step, math.Ceil(hi/step) * step
}

func formatTick(v float64) string {
	switch {
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', -1, 64) + "M"
	case v >= 1e4:
		return strconv.FormatFloat(v/1e3, 'f', -1, 64) + "k"
	}
	return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
}
