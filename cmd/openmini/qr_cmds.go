package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/openmini/openmini/qr"
	"github.com/openmini/openmini/web"
)

// `openmini qr ...`: QR codes over the REST API (/api/v1/qr): create one,
// create a numbered batch and download its printable kit, list, show
// statistics, disable, and download a code's image.

type qrCommand struct {
	name    string
	summary string
	run     func(ctx context.Context, c *cli, args []string) error
}

func qrCommands() []qrCommand {
	return []qrCommand{
		{"create", "create a QR code for a page of an app", cmdQRCreate},
		{"batch", "create numbered codes (tables 1 to 200) and download the kit", cmdQRBatch},
		{"list", "list an app's codes with their scans", cmdQRList},
		{"stats", "show a code's scans, users, launches and payments", cmdQRStats},
		{"disable", "turn a code off (scans show a notice)", cmdQRDisable},
		{"enable", "turn a code on again", cmdQREnable},
		{"image", "download a code's image (PNG or SVG)", cmdQRImage},
	}
}

func qrUsage(w io.Writer) {
	fmt.Fprintln(w, "Usage: openmini qr <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "QR codes of your mini programs: each holds a short link to a page with")
	fmt.Fprintln(w, "parameters, stored on the server (so parameters have no length cap and a")
	fmt.Fprintln(w, "printed code can be pointed elsewhere later).")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, s := range qrCommands() {
		fmt.Fprintf(w, "  %-8s %s\n", s.name, s.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run `openmini qr <command> --help` for a command's flags.")
}

func cmdQR(ctx context.Context, c *cli, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		if len(args) == 0 {
			qrUsage(c.stderr)
			return exitError{2}
		}
		qrUsage(c.stdout)
		return nil
	}
	for _, s := range qrCommands() {
		if s.name == args[0] {
			err := s.run(ctx, c, args[1:])
			var ee exitError
			if err != nil && !errors.As(err, &ee) {
				fmt.Fprintf(c.stderr, "openmini qr %s: %v\n", s.name, err)
				return exitError{1}
			}
			return err
		}
	}
	fmt.Fprintf(c.stderr, "openmini qr: unknown command %q (run `openmini qr help`)\n", args[0])
	return exitError{2}
}

// queryFlag collects repeated --query k=v.
type queryFlag map[string]string

func (q queryFlag) String() string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k+"="+q[k])
	}
	sort.Strings(keys)
	return strings.Join(keys, "&")
}

func (q queryFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("%q is not name=value", s)
	}
	if _, dup := q[k]; dup {
		return fmt.Errorf("parameter %q is given twice", k)
	}
	q[k] = v
	return nil
}

// expiry turns --expires (30d, 36h, or a date 2025-12-31) into a time.
func expiry(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := parseExpiry(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a duration like 30d or 36h, or a date like 2025-12-31", s)
	}
	return now.Add(d), nil
}

// codeArg reads the one CODE_ID argument of a command.
func codeArg(c *cli, cmd string, pos []string) (int64, error) {
	if len(pos) != 1 {
		return 0, usageError(c, "qr "+cmd, "give one CODE_ID (as shown by `openmini qr list`)")
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || id <= 0 {
		return 0, usageError(c, "qr "+cmd, "%q is not a code ID", pos[0])
	}
	return id, nil
}

func cmdQRCreate(ctx context.Context, c *cli, args []string) error {
	fs := newFlags(c, "qr create", "qr create --app ID [--page P] [--query k=v]... [--label TEXT] [--sublabel TEXT] [--expires 30d] [--trial] [--json]\n\nCreates a code that opens a page of the app with parameters, and prints its\nshort link. Download its image with `openmini qr image`.")
	appID := appFlag(c, fs)
	page := fs.String("page", "", "page to open, e.g. pages/order (default: the first page)")
	query := queryFlag{}
	fs.Var(query, "query", "a parameter for the page, name=value (repeat for more)")
	label := fs.String("label", "", "caption, e.g. \"Table 12\"")
	sublabel := fs.String("sublabel", "", "second caption line, e.g. the shop's name")
	expires := fs.String("expires", "", "when the code stops working: 30d, 36h or 2025-12-31 (default: never)")
	trial := fs.Bool("trial", false, "open the trial version (members and testers only)")
	asJSON := fs.Bool("json", false, "print the code as JSON")
	if err := devArgs(c, fs, "qr create", args, appID); err != nil {
		return err
	}
	exp, err := expiry(*expires, time.Now())
	if err != nil {
		return usageError(c, "qr create", "--expires: %v", err)
	}
	cl, err := remote(c)
	if err != nil {
		return err
	}
	req := web.QRCodeRequest{AppID: *appID, Page: *page, Query: query, Label: *label, Sublabel: *sublabel, ExpiresAt: exp}
	if *trial {
		req.Kind = qr.KindTrial
	}
	var code web.QRCode
	if err := cl.call(ctx, "POST", "/api/v1/qr/codes", req, &code); err != nil {
		return err
	}
	if *asJSON {
		return printJSON(c.stdout, code)
	}
	fmt.Fprintf(c.stdout, "Created QR code %d: %s\nIt opens %s\n", code.ID, code.ShortURL, code.TargetURL)
	fmt.Fprintf(c.stdout, "Image: openmini qr image %d -o code.png\n", code.ID)
	return nil
}

func cmdQRBatch(ctx context.Context, c *cli, args []string) error {
	fs := newFlags(c, "qr batch", "qr batch --app ID --param table --from 1 --to 200 [--label \"Table {n}\"] [--store 88] [--page P] [--query k=v]... [-o kit.pdf|kit.zip]\n\nCreates one code per number from --from to --to (at most 1000; all or none),\neach opening the page with --param set to the number, and downloads the\nprintable A4 PDF kit or a ZIP of the images with codes.csv.")
	appID := appFlag(c, fs)
	page := fs.String("page", "", "page to open, e.g. pages/order (default: the first page)")
	query := queryFlag{}
	fs.Var(query, "query", "a fixed parameter for every code, name=value (repeat for more)")
	store := fs.String("store", "", "shorthand for --query store=VALUE")
	param := fs.String("param", "", "the parameter set to each code's number, e.g. table")
	from := fs.Int("from", 1, "first number")
	to := fs.Int("to", 0, "last number")
	label := fs.String("label", "", "caption, {n} replaced by the number, e.g. \"Table {n}\"")
	sublabel := fs.String("sublabel", "", "second caption line, the same on every code")
	perPage := fs.Int("per-page", 4, "codes per A4 page of the PDF: 1, 2, 4, 6, 8, 9, 12 or 20")
	out := fs.String("o", "", "write the kit here: a .pdf (printable) or .zip (images and codes.csv)")
	asJSON := fs.Bool("json", false, "print the batch and its codes as JSON")
	if err := devArgs(c, fs, "qr batch", args, appID); err != nil {
		return err
	}
	if *to < *from || *to == 0 {
		return usageError(c, "qr batch", "--to must be at least --from")
	}
	if *store != "" {
		if err := query.Set("store=" + *store); err != nil {
			return usageError(c, "qr batch", "--store: %v", err)
		}
		if *sublabel == "" {
			*sublabel = "Store " + *store
		}
	}
	ext := strings.ToLower(filepath.Ext(*out))
	if *out != "" && ext != ".pdf" && ext != ".zip" {
		return usageError(c, "qr batch", "-o must name a .pdf or .zip file")
	}
	cl, err := remote(c)
	if err != nil {
		return err
	}
	var b web.QRBatch
	err = cl.call(ctx, "POST", "/api/v1/qr/batches", web.QRBatchRequest{AppID: *appID, Page: *page, Query: query, Param: *param,
		From: *from, To: *to, LabelTemplate: *label, Sublabel: *sublabel}, &b)
	if err != nil {
		return err
	}
	if *asJSON {
		if err := printJSON(c.stdout, b); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(c.stdout, "Created batch %d: %s (%d to %d).\n", b.Batch.ID, plural(len(b.Codes), "code"), b.Batch.From, b.Batch.To)
	}
	if *out == "" {
		if !*asJSON {
			fmt.Fprintf(c.stdout, "Kit: %s\nImages: %s\n", b.PDFURL, b.ZIPURL)
		}
		return nil
	}
	path := fmt.Sprintf("/api/v1/qr/batches/%d/kit%s", b.Batch.ID, ext)
	if ext == ".pdf" {
		path += "?per_page=" + strconv.Itoa(*perPage)
	}
	n, err := download(ctx, cl, path, *out)
	if err != nil {
		return fmt.Errorf("the codes were created (batch %d) but the kit could not be saved: %w", b.Batch.ID, err)
	}
	if !*asJSON {
		fmt.Fprintf(c.stdout, "Wrote %s (%s).\n", *out, humanSize(n))
	}
	return nil
}

func cmdQRList(ctx context.Context, c *cli, args []string) error {
	fs := newFlags(c, "qr list", "qr list --app ID [--json]\n\nLists the app's codes, oldest first, with their scans, users and launches.")
	appID := appFlag(c, fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := devArgs(c, fs, "qr list", args, appID); err != nil {
		return err
	}
	cl, err := remote(c)
	if err != nil {
		return err
	}
	var codes []web.QRCode
	after := int64(0)
	for {
		var page web.QRCodeList
		q := url.Values{"app_id": {*appID}, "limit": {"1000"}}
		if after > 0 {
			q.Set("after", strconv.FormatInt(after, 10))
		}
		if err := cl.call(ctx, "GET", "/api/v1/qr/codes?"+q.Encode(), nil, &page); err != nil {
			return err
		}
		codes = append(codes, page.Codes...)
		if page.NextAfter == 0 {
			break
		}
		after = page.NextAfter
	}
	var st qr.AppStats
	if err := cl.call(ctx, "GET", appPath(*appID, "qr", "stats"), nil, &st); err != nil {
		return err
	}
	if *asJSON {
		if codes == nil {
			codes = []web.QRCode{}
		}
		return printJSON(c.stdout, map[string]any{"codes": codes, "stats": st})
	}
	if len(codes) == 0 {
		fmt.Fprintf(c.stdout, "%s has no QR codes yet: openmini qr create --app %s\n", *appID, *appID)
		return nil
	}
	per := map[int64]qr.Stats{}
	for _, r := range st.Codes {
		per[r.CodeID] = r.Stats
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tLINK\tLABEL\tSTATUS\tSCANS\tUSERS\tLAUNCHES\tPAYMENTS")
	for _, q := range codes {
		s := per[q.ID]
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%d\t%d\t%d\n", q.ID, q.ShortURL, dash(oneLine(q.Label)), q.Status, s.Scans, s.UniqueUsers, s.Launches, s.Payments)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "%s; %d scans by %d users, %d launches, %d payments in all.\n", plural(len(codes), "code"),
		st.Total.Scans, st.Total.UniqueUsers, st.Total.Launches, st.Total.Payments)
	return nil
}

func cmdQRStats(ctx context.Context, c *cli, args []string) error {
	fs := newFlags(c, "qr stats", "qr stats CODE_ID [--since 2025-01-01] [--until 2025-02-01] [--json]\n\nShows a code's scans, unique users, launches and payments, per day (UTC).")
	since := fs.String("since", "", "only events from this date (or RFC 3339 time)")
	until := fs.String("until", "", "only events before this date")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	id, err := codeArg(c, "stats", pos)
	if err != nil {
		return err
	}
	cl, err := remote(c)
	if err != nil {
		return err
	}
	q := url.Values{}
	if *since != "" {
		q.Set("since", *since)
	}
	if *until != "" {
		q.Set("until", *until)
	}
	path := fmt.Sprintf("/api/v1/qr/codes/%d/stats", id)
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var st qr.Stats
	if err := cl.call(ctx, "GET", path, nil, &st); err != nil {
		return err
	}
	if *asJSON {
		return printJSON(c.stdout, st)
	}
	fmt.Fprintf(c.stdout, "Scans: %d\nUnique users: %d\nLaunches: %d\nPayments: %d\n", st.Scans, st.UniqueUsers, st.Launches, st.Payments)
	for _, a := range st.Paid {
		fmt.Fprintf(c.stdout, "Paid: %d %s (minor units)\n", a.Minor, a.Currency)
	}
	if len(st.Days) > 0 {
		fmt.Fprintln(c.stdout)
		tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "DAY (UTC)\tSCANS\tLAUNCHES\tPAYMENTS")
		for _, d := range st.Days {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\n", d.Day, d.Scans, d.Launches, d.Payments)
		}
		return tw.Flush()
	}
	return nil
}

func cmdQRDisable(ctx context.Context, c *cli, args []string) error {
	return qrSetDisabled(ctx, c, args, true)
}
func cmdQREnable(ctx context.Context, c *cli, args []string) error {
	return qrSetDisabled(ctx, c, args, false)
}

func qrSetDisabled(ctx context.Context, c *cli, args []string, off bool) error {
	name := "enable"
	if off {
		name = "disable"
	}
	fs := newFlags(c, "qr "+name, "qr "+name+" CODE_ID\n\nTurns a code off (a scan then shows a notice instead of the mini program),\nor on again.")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	id, err := codeArg(c, name, pos)
	if err != nil {
		return err
	}
	cl, err := remote(c)
	if err != nil {
		return err
	}
	var code web.QRCode
	if err := cl.call(ctx, "PATCH", fmt.Sprintf("/api/v1/qr/codes/%d", id), web.QRCodeUpdate{Disabled: &off}, &code); err != nil {
		return err
	}
	if off {
		fmt.Fprintf(c.stdout, "QR code %d (%s) is off: scans show a notice.\n", code.ID, code.ShortURL)
	} else {
		fmt.Fprintf(c.stdout, "QR code %d (%s) is %s.\n", code.ID, code.ShortURL, code.Status)
	}
	return nil
}

func cmdQRImage(ctx context.Context, c *cli, args []string) error {
	fs := newFlags(c, "qr image", "qr image CODE_ID -o code.png|code.svg [--size 512] [--level M] [--icon]\n\nDownloads a code's image; the format follows the file name.")
	out := fs.String("o", "", "output file, .png or .svg")
	size := fs.Int("size", 0, "edge in pixels, 128 to 1024 (default 512)")
	level := fs.String("level", "", "error correction: L, M, Q or H (default M; Q with --icon)")
	icon := fs.Bool("icon", false, "draw the app's icon in the centre")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	id, err := codeArg(c, "image", pos)
	if err != nil {
		return err
	}
	ext := strings.ToLower(filepath.Ext(*out))
	if ext != ".png" && ext != ".svg" {
		return usageError(c, "qr image", "-o must name a .png or .svg file")
	}
	cl, err := remote(c)
	if err != nil {
		return err
	}
	q := url.Values{}
	if *size != 0 {
		q.Set("size", strconv.Itoa(*size))
	}
	if *level != "" {
		q.Set("level", *level)
	}
	if *icon {
		q.Set("icon", "1")
	}
	path := fmt.Sprintf("/api/v1/qr/codes/%d%s", id, ext)
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	n, err := download(ctx, cl, path, *out)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "Wrote %s (%s).\n", *out, humanSize(n))
	return nil
}

// download saves the answer of a GET to file, replacing it only once the
// whole answer has arrived. Error answers come back as *apiError.
func download(ctx context.Context, cl *client, path, file string) (int64, error) {
	req, err := cl.request(ctx, http.MethodGet, path, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept", "*/*")
	resp, err := cl.http.Do(req)
	if err != nil {
		return 0, cl.reachError(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return 0, decodeError(resp, raw)
	}
	dir := filepath.Dir(file)
	tmp, err := os.CreateTemp(dir, ".openmini-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp.Name())
	n, err := io.Copy(tmp, resp.Body)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("downloading %s: %v", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return 0, err
	}
	return n, os.Rename(tmp.Name(), file)
}

var _ flag.Value = queryFlag{}
