package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"

	"github.com/openmini/openmini/internal/platformtest"
	"github.com/openmini/openmini/miniapp"
	"github.com/openmini/openmini/platform"
)

// fetchOpenAPI gets the running platform's document, raw and parsed.
func fetchOpenAPI(t *testing.T, p *platformtest.Running) ([]byte, map[string]any) {
	t.Helper()
	resp, err := http.Get(p.URL + "/api/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET /api/openapi.json: %d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), raw)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("the document is not JSON: %v", err)
	}
	return raw, doc
}

// TestOpenAPIMatchesRoutes checks the document against the routes the
// server really registered, in both directions, and against the OpenAPI
// 3.1 specification's own schema.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	p := platformtest.Start(t, platform.Config{Version: "1.2.3-test"})
	raw, doc := fetchOpenAPI(t, p)

	if doc["openapi"] != "3.1.0" {
		t.Errorf("openapi = %v, want 3.1.0", doc["openapi"])
	}
	info, _ := doc["info"].(map[string]any)
	if info["title"] != "OpenMini" || info["version"] != "1.2.3-test" {
		t.Errorf("info = %v, want title OpenMini and the build version", info)
	}
	if srv := jsonAt(doc, "servers", "0", "url"); srv != p.URL {
		t.Errorf("servers[0].url = %v, want the public URL %s", srv, p.URL)
	}
	for _, name := range []string{"apiKey", "session"} {
		if jsonAt(doc, "components", "securitySchemes", name) == nil {
			t.Errorf("no security scheme %s", name)
		}
	}
	if jsonAt(doc, "components", "securitySchemes", "session", "name") != "om_session" ||
		jsonAt(doc, "components", "securitySchemes", "apiKey", "scheme") != "bearer" {
		t.Errorf("security schemes: %v", jsonAt(doc, "components", "securitySchemes"))
	}

	// The (method, path) pairs in the document and on the server.
	documented := map[string]bool{}
	paths, _ := doc["paths"].(map[string]any)
	for path, item := range paths {
		for method, o := range item.(map[string]any) {
			route := strings.ToUpper(method) + " " + path
			documented[route] = true
			checkOperation(t, route, path, o.(map[string]any))
		}
	}
	registered := map[string]bool{}
	for _, pattern := range p.Web.APIRoutes() {
		method, path, ok := strings.Cut(pattern, " ")
		if !ok {
			t.Errorf("API route %q has no method", pattern)
			continue
		}
		path = strings.ReplaceAll(strings.TrimSuffix(path, "{$}"), "...}", "}")
		registered[method+" "+path] = true
	}
	if len(registered) < 50 {
		t.Fatalf("only %d API routes registered; is APIRoutes wired?", len(registered))
	}
	var missing, extra []string
	for r := range registered {
		if !documented[r] {
			missing = append(missing, r)
		}
	}
	for r := range documented {
		if !registered[r] {
			extra = append(extra, r)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	for _, r := range missing {
		t.Errorf("route %s is registered but not in the OpenAPI document: add a line to apiOperations in web/openapi.go", r)
	}
	for _, r := range extra {
		t.Errorf("the OpenAPI document has %s, but no such route is registered", r)
	}

	// Every $ref points at something.
	walkJSON(doc, "", func(at string, v map[string]any) {
		ref, ok := v["$ref"].(string)
		if !ok {
			return
		}
		if !strings.HasPrefix(ref, "#/") {
			t.Errorf("%s: $ref %q is not local", at, ref)
			return
		}
		if resolvePointer(doc, ref[1:]) == nil {
			t.Errorf("%s: $ref %q points at nothing", at, ref)
		}
	})

	// The document against the OpenAPI 3.1 specification's schema.
	d, err := libopenapi.NewDocument(raw)
	if err != nil {
		t.Fatalf("libopenapi: %v", err)
	}
	if d.GetVersion() != "3.1.0" {
		t.Errorf("libopenapi reads the document as version %s", d.GetVersion())
	}
	val, errs := validator.NewValidator(d)
	if len(errs) > 0 {
		t.Fatalf("validator: %v", errs)
	}
	if ok, verrs := val.ValidateDocument(); !ok {
		for _, e := range verrs {
			t.Errorf("not a valid OpenAPI 3.1 document: %s", e.Error())
		}
	}
}

// checkOperation checks one operation's shape: an operationId, a
// summary, path parameters exactly the {names} in its path, a success
// response, and the Error shape for failures.
func checkOperation(t *testing.T, route, path string, o map[string]any) {
	t.Helper()
	if id, _ := o["operationId"].(string); id == "" {
		t.Errorf("%s: no operationId", route)
	}
	if s, _ := o["summary"].(string); s == "" {
		t.Errorf("%s: no summary", route)
	}
	var inPath []string
	params, _ := o["parameters"].([]any)
	for _, p := range params {
		p := p.(map[string]any)
		if p["in"] == "path" {
			inPath = append(inPath, p["name"].(string))
			if p["required"] != true {
				t.Errorf("%s: path parameter %v is not required", route, p["name"])
			}
		}
	}
	var names []string
	for _, seg := range strings.Split(path, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			names = append(names, strings.Trim(seg, "{}"))
		}
	}
	if !slices.Equal(inPath, names) {
		t.Errorf("%s: path parameters %v, but the path has %v", route, inPath, names)
	}
	responses, _ := o["responses"].(map[string]any)
	var success bool
	for code, r := range responses {
		n, _ := strconv.Atoi(code)
		if n >= 200 && n < 300 {
			success = true
		}
		if n >= 400 || code == "default" {
			if ref, _ := r.(map[string]any)["$ref"].(string); !strings.HasPrefix(ref, "#/components/responses/") {
				t.Errorf("%s: response %s does not use the shared error responses", route, code)
			}
		}
	}
	if !success || responses["default"] == nil {
		t.Errorf("%s: responses %v need a 2xx and a default", route, slices.Sorted(maps.Keys(responses)))
	}
	if _, ok := o["security"]; !ok {
		t.Errorf("%s: no security requirement (public operations have an empty list)", route)
	}
}

// TestOpenAPIErrorCodes checks that the Error schema's code enum is
// exactly the E* constants of errors.go, and that each shared error
// response names the codes that answer with its status.
func TestOpenAPIErrorCodes(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "../errors.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok {
			return true
		}
		for i, name := range vs.Names {
			if strings.HasPrefix(name.Name, "E") && i < len(vs.Values) {
				if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					s, _ := strconv.Unquote(lit.Value)
					want = append(want, s)
				}
			}
		}
		return true
	})
	if len(want) < 5 {
		t.Fatalf("found only %v in errors.go", want)
	}
	p := platformtest.Start(t, platform.Config{})
	_, doc := fetchOpenAPI(t, p)
	errSchema := jsonAt(doc, "components", "schemas", "Error")
	var got []string
	for _, c := range asSlice(jsonAt(errSchema, "properties", "error", "properties", "code", "enum")) {
		got = append(got, c.(string))
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("Error.code enum %v, errors.go has %v", got, want)
	}
	for _, req := range []string{"code", "message"} {
		if !slices.Contains(asSlice(jsonAt(errSchema, "properties", "error", "required")), any(req)) {
			t.Errorf("error.%s is not required in the Error schema", req)
		}
	}
	if jsonAt(errSchema, "properties", "error", "properties", "problems", "items", "$ref") != "#/components/schemas/Problem" {
		t.Errorf("error.problems: %v", jsonAt(errSchema, "properties", "error", "properties", "problems"))
	}
	if d, _ := jsonAt(doc, "components", "responses", "Conflict", "description").(string); !strings.Contains(d, "conflict") {
		t.Errorf("Conflict response description %q does not name its code", d)
	}
}

// TestOpenAPISchemasFollowEncoding spot-checks that schemas follow
// encoding/json's rules on the real types: omitempty and omitzero fields
// are optional, times are date-times, pointers may be null, embedded
// structs are flattened, json:"-" fields are hidden, the upload body is a
// package.
func TestOpenAPISchemasFollowEncoding(t *testing.T) {
	p := platformtest.Start(t, platform.Config{})
	_, doc := fetchOpenAPI(t, p)
	schemas := jsonAt(doc, "components", "schemas")
	required := func(schema, prop string) bool {
		return slices.Contains(asSlice(jsonAt(schemas, schema, "required")), any(prop))
	}
	version := "AppVersion" // app.Version and miniapp.Version share a name
	for _, c := range []struct {
		schema, prop string
		required     bool
	}{
		{version, "id", true},
		{version, "files", false},        // omitempty
		{version, "submitted_at", false}, // omitzero
		{version, "review_reason", false},
		{"App", "keywords", true},
		{"ReviewItem", "app_name", true},
		{"ReviewItem", "version", true}, // from the embedded app.Version
		{"ReviewItem", "sha256", true},
		{"ReviewDetail", "preview_url", true},
		{"ReviewDetail", "released_version", false},
		{"ReviewDetail", "state", true}, // two levels of embedding
		{"AppCreateRequest", "org_id", true},
		{"AppCreateRequest", "name", false}, // *string omitempty from app.Settings
	} {
		if jsonAt(schemas, c.schema, "properties", c.prop) == nil {
			t.Errorf("%s has no property %s", c.schema, c.prop)
		} else if required(c.schema, c.prop) != c.required {
			t.Errorf("%s.%s: required = %v, want %v", c.schema, c.prop, !c.required, c.required)
		}
	}
	if jsonAt(schemas, version, "properties", "package_key") != nil || jsonAt(schemas, "App", "properties", "icon_key") != nil {
		t.Error(`json:"-" fields are in the schemas`)
	}
	if jsonAt(schemas, version, "properties", "created_at", "format") != "date-time" {
		t.Errorf("created_at: %v", jsonAt(schemas, version, "properties", "created_at"))
	}
	manifest := jsonAt(schemas, version, "properties", "manifest", "anyOf")
	if len(asSlice(manifest)) != 2 || jsonAt(manifest, "0", "$ref") != "#/components/schemas/Manifest" || jsonAt(manifest, "1", "type") != "null" {
		t.Errorf("a *miniapp.Manifest must be a Manifest or null: %v", manifest)
	}
	if jsonAt(schemas, "MiniappVersion", "properties", "code", "type") != "integer" {
		t.Errorf("miniapp.Version: %v", jsonAt(schemas, "MiniappVersion"))
	}
	if jsonAt(schemas, "App", "additionalProperties") != false {
		t.Error("struct schemas are not closed")
	}
	upload := jsonAt(doc, "paths", "/api/v1/apps/{appID}/versions", "post", "requestBody", "content")
	if jsonAt(upload, miniapp.MediaType) == nil || len(upload.(map[string]any)) != 1 {
		t.Errorf("upload body: %v", upload)
	}
	if jsonAt(doc, "paths", "/api/v1/signup", "post", "security") == nil || len(asSlice(jsonAt(doc, "paths", "/api/v1/signup", "post", "security"))) != 0 {
		t.Error("signup must be public (security: [])")
	}
	if s := asSlice(jsonAt(doc, "paths", "/api/v1/admin/policy", "get", "security")); len(s) != 1 || jsonAt(s, "0", "session") == nil {
		t.Errorf("operator routes take the session only: %v", s)
	}
}

// apiCheck sends real requests and validates each request and answer
// against the document.
type apiCheck struct {
	t     *testing.T
	p     *platformtest.Running
	v     validator.Validator
	c     *http.Client
	token string
	seen  map[string]bool
}

// call sends body (nil, []byte for a package, or a value sent as JSON),
// wants the status, validates request and response with the document,
// and decodes the answer into out.
func (a *apiCheck) call(method, path string, body any, want int, out any) {
	a.t.Helper()
	var raw []byte
	ct := ""
	switch b := body.(type) {
	case nil:
	case []byte:
		raw, ct = b, miniapp.MediaType
	default:
		raw, _ = json.Marshal(b)
		ct = "application/json"
	}
	newReq := func() *http.Request {
		req, err := http.NewRequest(method, a.p.URL+path, bytes.NewReader(raw))
		if err != nil {
			a.t.Fatal(err)
		}
		if body == nil {
			req.Body, req.ContentLength = http.NoBody, 0
		}
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		if a.token != "" {
			req.Header.Set("Authorization", "Bearer "+a.token)
		}
		req.Header.Set("Origin", a.p.URL)
		u, _ := url.Parse(a.p.URL)
		for _, c := range a.c.Jar.Cookies(u) {
			req.AddCookie(c)
		}
		return req
	}
	resp, err := a.c.Do(newReq())
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		a.t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, got)
	}
	resp.Body = io.NopCloser(bytes.NewReader(got))
	validate := a.v.ValidateHttpRequestResponse
	if want >= 400 {
		validate = a.v.ValidateHttpResponse // some of these requests are wrong on purpose
	}
	if ok, errs := validate(newReq(), resp); !ok {
		for _, e := range errs {
			a.t.Errorf("%s %s (%d): %s\nanswer: %s", method, path, resp.StatusCode, e.Error(), got)
		}
	}
	a.seen[fmt.Sprintf("%s %d", method, resp.StatusCode)] = true
	if out != nil {
		if err := json.Unmarshal(got, out); err != nil {
			a.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

// answerValidates reports whether body, as the JSON answer to method
// path with status, passes the document.
func (a *apiCheck) answerValidates(method, path string, status int, body any) bool {
	a.t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		a.t.Fatal(err)
	}
	req, _ := http.NewRequest(method, a.p.URL+path, nil)
	resp := &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(bytes.NewReader(b)), Request: req}
	ok, _ := a.v.ValidateHttpResponse(req, resp)
	return ok
}

// TestOpenAPIDescribesRealAnswers drives a developer and a reviewer
// through the API and validates every request and answer against the
// document the server publishes, errors included.
func TestOpenAPIDescribesRealAnswers(t *testing.T) {
	p := platformtest.Start(t, platform.Config{})
	raw, _ := fetchOpenAPI(t, p)
	d, err := libopenapi.NewDocument(raw)
	if err != nil {
		t.Fatal(err)
	}
	v, errs := validator.NewValidator(d, config.WithFormatAssertions())
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	dev := &apiCheck{t: t, p: p, v: v, c: p.Client(), seen: map[string]bool{}}
	op := &apiCheck{t: t, p: p, v: v, c: p.CreateOperator(t, "op@example.com", "operator-password-1"), seen: dev.seen}
	anon := &apiCheck{t: t, p: p, v: v, c: p.Client(), seen: dev.seen}

	var su struct {
		Org struct {
			ID int64 `json:"id"`
		} `json:"org"`
	}
	dev.call("POST", "/api/v1/signup", map[string]any{"email": "dev@noodles.example", "name": "Dana Dev", "password": "developer-password-1", "org_name": "Noodle Bar Ltd", "invitation_code": ""}, 201, &su)
	dev.call("GET", "/api/v1/me", nil, 200, nil)
	anon.call("GET", "/api/v1/me", nil, 401, nil)
	anon.call("GET", "/api/v1/categories", nil, 200, nil)
	dev.call("GET", "/api/v1/apps", nil, 200, nil)

	var created struct {
		App struct {
			ID string `json:"id"`
		} `json:"app"`
	}
	dev.call("POST", "/api/v1/apps", map[string]any{"org_id": su.Org.ID, "name": "Noodle Bar", "category": "food", "keywords": []string{"noodles", "面"}}, 201, &created)
	base := "/api/v1/apps/" + created.App.ID
	var appJSON map[string]any
	dev.call("GET", base, nil, 200, &appJSON)
	// The check can fail: the same answer without a required field, or
	// with a field no Go type has, is refused.
	delete(appJSON, "name")
	if dev.answerValidates("GET", base, 200, appJSON) {
		t.Error("an app without its name passes as a valid answer")
	}
	appJSON["name"], appJSON["colour"] = "Noodle Bar", "red"
	if dev.answerValidates("GET", base, 200, appJSON) {
		t.Error("an app with an undocumented field passes as a valid answer")
	}
	delete(appJSON, "colour")
	if !dev.answerValidates("GET", base, 200, appJSON) {
		t.Error("the real answer, decoded and encoded again, does not validate")
	}
	dev.call("PATCH", base, map[string]any{"description": "Hand-pulled noodles.", "allowed_domains": []string{"https://api.noodles.example"}}, 200, nil)
	dev.call("PATCH", base, map[string]any{"colour": "red"}, 400, nil)
	dev.call("GET", "/api/v1/apps/nosuchapp", nil, 404, nil)
	dev.call("GET", base+"/versions", nil, 200, nil) // none yet
	dev.call("GET", base+"/testers", nil, 200, nil)
	dev.call("GET", base+"/release", nil, 404, nil)

	var key struct {
		Token string `json:"token"`
	}
	dev.call("POST", fmt.Sprintf("/api/v1/orgs/%d/api-keys", su.Org.ID), map[string]any{"name": "CI"}, 201, &key)
	ci := &apiCheck{t: t, p: p, v: v, c: p.Client(), token: key.Token, seen: dev.seen}
	ci.call("GET", "/api/v1/me", nil, 200, nil)

	// Upload with the key, a second time (conflict), and a broken package
	// whose problems come back in the error.
	pkg := platformtest.Package(t, "shop", "Noodle Bar", "1.0.0", nil)
	ci.call("POST", base+"/versions?note=first", pkg, 201, nil)
	ci.call("POST", base+"/versions", pkg, 409, nil)
	var bad struct {
		Error struct {
			Problems []miniapp.Problem `json:"problems"`
		} `json:"error"`
	}
	ci.call("POST", base+"/versions", []byte("PK\x03\x04 this is not a zip"), 400, &bad)
	dev.call("GET", base+"/versions", nil, 200, nil)
	dev.call("GET", base+"/versions/1.0.0", nil, 200, nil)
	dev.call("GET", base+"/versions/1.0.0/package", nil, 200, nil)
	dev.call("PUT", base+"/trial", map[string]any{"version": "1.0.0"}, 200, nil)
	dev.call("DELETE", base+"/trial", nil, 200, nil)

	var submitted struct {
		ID int64 `json:"id"`
	}
	ci.call("POST", base+"/versions/1.0.0/submit", nil, 200, &submitted)
	op.call("GET", "/api/v1/admin/reviews", nil, 200, nil)
	op.call("GET", fmt.Sprintf("/api/v1/admin/reviews/%d", submitted.ID), nil, 200, nil)
	dev.call("POST", fmt.Sprintf("/api/v1/admin/reviews/%d/approve", submitted.ID), nil, 403, nil)
	op.call("POST", fmt.Sprintf("/api/v1/admin/reviews/%d/approve", submitted.ID), nil, 200, nil)
	ci.call("POST", base+"/release", map[string]any{"version": "1.0.0", "percent": 100}, 200, nil)
	dev.call("GET", base+"/release", nil, 200, nil)
	dev.call("GET", base+"/release/users/user-42", nil, 200, nil)
	dev.call("GET", base+"/audit?limit=5", nil, 200, nil)
	dev.call("GET", fmt.Sprintf("/api/v1/orgs/%d/members", su.Org.ID), nil, 200, nil)
	op.call("GET", "/api/v1/admin/policy", nil, 200, nil)
	op.call("GET", "/api/v1/admin/orgs", nil, 200, nil)

	for _, want := range []string{"GET 200", "POST 201", "POST 400", "POST 409", "GET 401", "GET 404", "POST 403", "PATCH 200", "PUT 200", "DELETE 200"} {
		if !dev.seen[want] {
			t.Errorf("no %s answer was checked", want)
		}
	}
	if len(bad.Error.Problems) == 0 {
		t.Error("a broken package got no problems in its error")
	}
}

// jsonAt walks decoded JSON by object keys and array indexes.
func jsonAt(v any, keys ...string) any {
	for _, k := range keys {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

// resolvePointer follows a JSON pointer ("/components/schemas/App").
func resolvePointer(doc any, ptr string) any {
	var keys []string
	for _, k := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		keys = append(keys, strings.ReplaceAll(strings.ReplaceAll(k, "~1", "/"), "~0", "~"))
	}
	return jsonAt(doc, keys...)
}

// walkJSON calls f on every object in v with its location.
func walkJSON(v any, at string, f func(at string, obj map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		f(at, x)
		for k, c := range x {
			walkJSON(c, at+"/"+k, f)
		}
	case []any:
		for i, c := range x {
			walkJSON(c, at+"/"+strconv.Itoa(i), f)
		}
	}
}
