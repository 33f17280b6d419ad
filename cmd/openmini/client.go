package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/openmini/openmini/miniapp"
)

// The CLI's side of the REST API: where the login is kept, a small JSON
// client over net/http, the console sign-in that `openmini login` uses to
// mint an API key, and the upload progress bar.

// login is what `openmini login` stores, in config.json.
type login struct {
	Server  string `json:"server"`
	Token   string `json:"token"`
	OrgID   int64  `json:"org_id,omitempty"`
	OrgName string `json:"org_name,omitempty"`
	KeyID   int64  `json:"key_id,omitempty"` // the key login created (logout revokes it)
	Account string `json:"account,omitempty"`
}

// configPath is where the login lives: $OPENMINI_CONFIG, or
// os.UserConfigDir()/openmini/config.json.
func configPath(c *cli) (string, error) {
	if p := c.getenv("OPENMINI_CONFIG"); p != "" {
		return p, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no configuration directory (%v); set OPENMINI_CONFIG to a file path", err)
	}
	return filepath.Join(dir, "openmini", "config.json"), nil
}

// loadLogin reads the stored login; a missing file gives a zero login and
// no error.
func loadLogin(c *cli) (login, string, error) {
	path, err := configPath(c)
	if err != nil {
		return login{}, "", err
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return login{}, path, nil
	}
	if err != nil {
		return login{}, path, err
	}
	var l login
	if err := json.Unmarshal(b, &l); err != nil {
		return login{}, path, fmt.Errorf("%s: not a valid login file (%v); run `openmini logout` and log in again", path, err)
	}
	return l, path, nil
}

// saveLogin writes the login readable by its owner only (0600, in a 0700
// directory), replacing any earlier one in one rename.
func saveLogin(path string, l login) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".config-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// errNotLoggedIn is what every server command says without a login.
var errNotLoggedIn = errors.New("not logged in: run `openmini login --server https://YOUR-PLATFORM`, or set OPENMINI_SERVER and OPENMINI_TOKEN (for CI)")

// remote returns a client for the configured server: OPENMINI_SERVER and
// OPENMINI_TOKEN override the stored login. A stored key is only ever sent
// to the server it was made for.
func remote(c *cli) (*client, error) {
	l, _, err := loadLogin(c)
	if err != nil {
		return nil, err
	}
	server, token := c.getenv("OPENMINI_SERVER"), c.getenv("OPENMINI_TOKEN")
	if server != "" {
		if server, err = normalizeServer(server); err != nil {
			return nil, fmt.Errorf("OPENMINI_SERVER: %v", err)
		}
	} else {
		server = l.Server
	}
	if token == "" && server == l.Server {
		token = l.Token
	}
	switch {
	case server == "":
		return nil, errNotLoggedIn
	case token == "":
		return nil, fmt.Errorf("no API key for %s: set OPENMINI_TOKEN, or run `openmini login --server %s`", server, server)
	}
	return newClient(server, token), nil
}

// normalizeServer checks a server URL and returns it without a trailing
// slash.
func normalizeServer(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%q is not a server URL like https://mini.example.com", raw)
	}
	return u.Scheme + "://" + u.Host + strings.TrimRight(u.Path, "/"), nil
}

// client talks to one server's REST API, with an API key or (while
// logging in) a console session cookie.
type client struct {
	server string
	token  string
	http   *http.Client
}

func newClient(server, token string) *client {
	return &client{server: server, token: token, http: &http.Client{
		// Redirects are answers here (sign-in answers 303); never follow
		// them, so a key is not sent anywhere else.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// apiError is an error answer of the API: {"error": {"code", "message",
// "problems"}}. Its text is the server's message.
type apiError struct {
	Status     int
	Code       string
	Message    string
	Problems   []miniapp.Problem
	RetryAfter int
}

func (e *apiError) Error() string {
	if e.RetryAfter > 0 {
		return fmt.Sprintf("%s (try again in %d seconds)", e.Message, e.RetryAfter)
	}
	return e.Message
}

// jsonTimeout bounds a JSON call; uploads are bounded only by ctx.
const jsonTimeout = 60 * time.Second

// call sends a JSON request (in may be nil) and decodes a JSON answer into
// out (may be nil). Error answers come back as *apiError.
func (cl *client) call(ctx context.Context, method, path string, in, out any) error {
	ctx, cancel := context.WithTimeout(ctx, jsonTimeout)
	defer cancel()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := cl.request(ctx, method, path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return cl.send(req, out)
}

func (cl *client) request(ctx context.Context, method, path string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, cl.server+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Accept-Language", "en")
	req.Header.Set("User-Agent", "openmini-cli/"+Version)
	if cl.token != "" {
		req.Header.Set("Authorization", "Bearer "+cl.token)
	} else {
		// A session request: the server's cross-origin protection wants
		// the Origin a browser on the console would send.
		req.Header.Set("Origin", cl.origin())
	}
	return req, nil
}

// origin is the scheme and host of the server URL.
func (cl *client) origin() string {
	u, _ := url.Parse(cl.server)
	return u.Scheme + "://" + u.Host
}

// send does req and decodes its JSON answer.
func (cl *client) send(req *http.Request, out any) error {
	resp, err := cl.http.Do(req)
	if err != nil {
		return cl.reachError(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return fmt.Errorf("reading the answer of %s: %v", cl.server, err)
	}
	if resp.StatusCode >= 300 {
		return decodeError(resp, raw)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%s %s: the answer is not the JSON the CLI expects (is %s an OpenMini server?)", req.Method, req.URL.Path, cl.server)
	}
	return nil
}

// reachError explains a failed round trip without Go's URL noise.
func (cl *client) reachError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, context.Canceled) {
		return errors.New("interrupted")
	}
	return fmt.Errorf("cannot reach %s: %v", cl.server, err)
}

// decodeError turns an error answer into an *apiError.
func decodeError(resp *http.Response, raw []byte) error {
	var body struct {
		Error struct {
			Code     string            `json:"code"`
			Message  string            `json:"message"`
			Problems []miniapp.Problem `json:"problems"`
		} `json:"error"`
	}
	e := &apiError{Status: resp.StatusCode}
	e.RetryAfter, _ = strconv.Atoi(resp.Header.Get("Retry-After"))
	if json.Unmarshal(raw, &body) == nil && body.Error.Message != "" {
		e.Code, e.Message, e.Problems = body.Error.Code, body.Error.Message, body.Error.Problems
		return e
	}
	e.Message = fmt.Sprintf("the server answered %s (is this the OpenMini server's URL?)", resp.Status)
	return e
}

// upload posts a package to an app with the progress shown by p.
func (cl *client) upload(ctx context.Context, appID, version, note string, pkg []byte, p *progress, out any) error {
	q := url.Values{}
	if version != "" {
		q.Set("version", version)
	}
	if note != "" {
		q.Set("note", note)
	}
	path := "/api/v1/apps/" + url.PathEscape(appID) + "/versions"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	p.start()
	req, err := cl.request(ctx, http.MethodPost, path, &progressReader{r: bytes.NewReader(pkg), p: p})
	if err != nil {
		return err
	}
	req.ContentLength = int64(len(pkg))
	req.Header.Set("Content-Type", miniapp.MediaType)
	err = cl.send(req, out)
	p.finish()
	return err
}

// signIn starts a console session with an e-mail and password (POST
// /signin, as the sign-in form does) and returns a client that carries its
// cookie.
func signIn(ctx context.Context, server, email, password string) (*client, error) {
	cl := newClient(server, "")
	cl.http.Jar, _ = cookiejar.New(nil)
	form := url.Values{"email": {email}, "password": {password}}
	ctx, cancel := context.WithTimeout(ctx, jsonTimeout)
	defer cancel()
	req, err := cl.request(ctx, http.MethodPost, "/signin", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "text/html")
	resp, err := cl.http.Do(req)
	if err != nil {
		return nil, cl.reachError(err)
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode == http.StatusSeeOther {
		for _, c := range resp.Cookies() {
			if c.Value != "" {
				return cl, nil
			}
		}
	}
	e := &apiError{Status: resp.StatusCode, Message: "sign-in failed: the server answered " + resp.Status}
	e.RetryAfter, _ = strconv.Atoi(resp.Header.Get("Retry-After"))
	// The sign-in form shows its error in <p class="error">.
	if m := formError.FindSubmatch(page); m != nil {
		e.Message = html.UnescapeString(strings.TrimSpace(string(m[1])))
	}
	return nil, e
}

var formError = regexp.MustCompile(`<p class="error"[^>]*>([^<]*)</p>`)

// signOut ends a console session (best effort).
func (cl *client) signOut(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := cl.request(ctx, http.MethodPost, "/signout", nil)
	if err != nil {
		return
	}
	if resp, err := cl.http.Do(req); err == nil {
		resp.Body.Close()
	}
}

// lineReader reads answers to prompts from stdin; it hides what is typed
// for secrets when stdin is a terminal.
type lineReader struct {
	c   *cli
	in  *bufio.Reader
	tty int // stdin's descriptor when it is a terminal, else -1
}

func newLineReader(c *cli) *lineReader {
	lr := &lineReader{c: c, in: bufio.NewReader(c.stdin), tty: -1}
	if f, ok := c.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		lr.tty = int(f.Fd())
	}
	return lr
}

// ask prompts (on stderr, only for a terminal) and returns one trimmed
// line; io.EOF when stdin has nothing more.
func (lr *lineReader) ask(prompt string) (string, error) {
	if lr.tty >= 0 {
		fmt.Fprint(lr.c.stderr, prompt)
	}
	line, err := lr.in.ReadString('\n')
	if err != nil && (!errors.Is(err, io.EOF) || line == "") {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// secret is ask without echo on a terminal. It keeps spaces inside the
// answer; only the line end is removed.
func (lr *lineReader) secret(prompt string) (string, error) {
	if lr.tty < 0 {
		return lr.ask(prompt)
	}
	fmt.Fprint(lr.c.stderr, prompt)
	b, err := term.ReadPassword(lr.tty)
	fmt.Fprintln(lr.c.stderr)
	return string(b), err
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progress shows how much of an upload has been sent: on a terminal a bar
// redrawn in place with \r, elsewhere a few plain lines (every quarter).
type progress struct {
	w     io.Writer
	tty   bool
	label string
	total int64
	sent  int64
	shown int // last percentage drawn (tty) or last quarter printed (lines)
}

func newProgress(w io.Writer, tty bool, label string, total int64) *progress {
	return &progress{w: w, tty: tty, label: label, total: total, shown: -1}
}

const barWidth = 30

func (p *progress) start() {
	if !p.tty {
		fmt.Fprintf(p.w, "%s: %s\n", p.label, humanSize(p.total))
	}
	p.add(0)
}

// add records n more bytes sent and redraws when the figure changed.
func (p *progress) add(n int) {
	p.sent += int64(n)
	pct := 100
	if p.total > 0 {
		pct = int(p.sent * 100 / p.total)
	}
	if p.tty {
		if pct == p.shown {
			return
		}
		p.shown = pct
		fill := pct * barWidth / 100
		fmt.Fprintf(p.w, "\r%s [%s%s] %3d%% %s/%s", p.label, strings.Repeat("=", fill), strings.Repeat(" ", barWidth-fill), pct,
			humanSize(p.sent), humanSize(p.total))
		return
	}
	for q := p.shown + 1; q <= pct/25; q++ {
		if q > 0 {
			fmt.Fprintf(p.w, "  %3d%% sent (%s)\n", q*25, humanSize(p.total*int64(q)/4))
		}
		p.shown = q
	}
}

// finish ends the bar's line once the server has answered.
func (p *progress) finish() {
	if p.tty {
		fmt.Fprintln(p.w)
	}
}

// progressReader counts what the HTTP client reads from the body.
type progressReader struct {
	r io.Reader
	p *progress
}

func (pr *progressReader) Read(b []byte) (int, error) {
	n, err := pr.r.Read(b)
	pr.p.add(n)
	return n, err
}

// humanSize formats a byte count the way the consoles do (1 KB = 1024 B).
func humanSize(n int64) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d B", n)
	case n < 1024*1024:
		return fmt.Sprintf("%.1f KB", float64(n)/1024)
	default:
		return fmt.Sprintf("%.1f MB", float64(n)/(1024*1024))
	}
}
