package miniapp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"golang.org/x/text/language"
)

// Manifest is a W3C MiniApp Manifest (manifest.json). Members follow the
// specification's names; members this package does not know are kept out of
// the struct and only earn a warning. OpenMini's own extension lives in the
// namespaced member "x_openmini".
type Manifest struct {
	AppID           string          `json:"app_id"`
	Name            string          `json:"name"`
	ShortName       string          `json:"short_name,omitempty"`
	Description     string          `json:"description,omitempty"`
	Icons           []Icon          `json:"icons"`
	Version         Version         `json:"version"`
	PlatformVersion PlatformVersion `json:"platform_version,omitzero"`
	Pages           []string        `json:"pages"`
	Window          *Window         `json:"window,omitempty"`
	ReqPermissions  []Permission    `json:"req_permissions,omitempty"`
	Dir             string          `json:"dir,omitempty"`
	Lang            string          `json:"lang,omitempty"`
	ColorScheme     string          `json:"color_scheme,omitempty"`
	DeviceType      []string        `json:"device_type,omitempty"`
	Widgets         []Widget        `json:"widgets,omitempty"`
	OpenMini        *XOpenMini      `json:"x_openmini,omitempty"`
}

// Icon is one entry of the manifest's icons.
type Icon struct {
	Src   string `json:"src"`
	Sizes string `json:"sizes,omitempty"`
	Label string `json:"label,omitempty"`
}

// Version identifies a version of the mini program: Code orders versions
// and must be a positive integer; Name is shown to people.
type Version struct {
	Code int64  `json:"code"`
	Name string `json:"name"`
}

// PlatformVersion states which platform versions the mini program needs.
type PlatformVersion struct {
	MinCode     int64  `json:"min_code,omitempty"`
	TargetCode  int64  `json:"target_code,omitempty"`
	ReleaseType string `json:"release_type,omitempty"`
}

// Window configures how pages are displayed.
type Window struct {
	BackgroundColor              string `json:"background_color,omitempty"`
	BackgroundTextStyle          string `json:"background_text_style,omitempty"`
	Fullscreen                   bool   `json:"fullscreen,omitempty"`
	Orientation                  string `json:"orientation,omitempty"`
	NavigationBarBackgroundColor string `json:"navigation_bar_background_color,omitempty"`
	NavigationBarTextStyle       string `json:"navigation_bar_text_style,omitempty"`
	NavigationBarTitleText       string `json:"navigation_bar_title_text,omitempty"`
	NavigationStyle              string `json:"navigation_style,omitempty"`
	DesignWidth                  int64  `json:"design_width,omitempty"`
	AutoDesignWidth              bool   `json:"auto_design_width,omitempty"`
	EnablePullDownRefresh        bool   `json:"enable_pull_down_refresh,omitempty"`
	OnReachBottomDistance        int64  `json:"on_reach_bottom_distance,omitempty"`
}

// Permission is one entry of req_permissions: a permission the mini program
// asks for, and why.
type Permission struct {
	Name   string `json:"name"`
	Reason string `json:"reason,omitempty"`
}

// Widget is one entry of widgets.
type Widget struct {
	Name    string `json:"name"`
	Path    string `json:"path"`
	MinCode int64  `json:"min_code,omitempty"`
}

// XOpenMini is the "x_openmini" member: settings of OpenMini's own that the
// W3C manifest has no member for. Every field is optional.
type XOpenMini struct {
	// SDKVersion is the version of the openmini JS SDK the mini program
	// was written against, e.g. "1".
	SDKVersion string `json:"sdk_version,omitempty"`
	// Category is a hint for the operator's catalogue, e.g. "shopping".
	Category string `json:"category,omitempty"`
}

// kind is the JSON type a manifest member must have.
type kind int

const (
	kString kind = iota
	kBool
	kInt
	kObject
	kArray
)

func (k kind) String() string {
	return [...]string{"a string", "true or false", "an integer", "an object", "an array"}[k]
}

// member describes one manifest member for the type checker.
type member struct {
	name     string
	kind     kind
	required bool
	fields   []member // for kObject, or the element object of a kArray
	elem     kind     // element kind of a kArray
	enum     []string // allowed values of a kString
}

// manifestSchema is what checkManifest enforces. Members not listed are
// allowed (and warned about unless namespaced with "x_").
var manifestSchema = []member{
	{name: "app_id", kind: kString, required: true},
	{name: "name", kind: kString, required: true},
	{name: "short_name", kind: kString},
	{name: "description", kind: kString},
	{name: "icons", kind: kArray, required: true, elem: kObject, fields: []member{
		{name: "src", kind: kString, required: true},
		{name: "sizes", kind: kString},
		{name: "label", kind: kString},
	}},
	{name: "version", kind: kObject, required: true, fields: []member{
		{name: "code", kind: kInt, required: true},
		{name: "name", kind: kString, required: true},
	}},
	{name: "platform_version", kind: kObject, fields: []member{
		{name: "min_code", kind: kInt},
		{name: "target_code", kind: kInt},
		{name: "release_type", kind: kString},
	}},
	{name: "pages", kind: kArray, required: true, elem: kString},
	{name: "window", kind: kObject, fields: []member{
		{name: "background_color", kind: kString},
		{name: "background_text_style", kind: kString, enum: []string{"dark", "light"}},
		{name: "fullscreen", kind: kBool},
		{name: "orientation", kind: kString, enum: []string{"portrait", "landscape", "auto"}},
		{name: "navigation_bar_background_color", kind: kString},
		{name: "navigation_bar_text_style", kind: kString, enum: []string{"white", "black"}},
		{name: "navigation_bar_title_text", kind: kString},
		{name: "navigation_style", kind: kString, enum: []string{"default", "custom"}},
		{name: "design_width", kind: kInt},
		{name: "auto_design_width", kind: kBool},
		{name: "enable_pull_down_refresh", kind: kBool},
		{name: "on_reach_bottom_distance", kind: kInt},
	}},
	{name: "req_permissions", kind: kArray, elem: kObject, fields: []member{
		{name: "name", kind: kString, required: true},
		{name: "reason", kind: kString},
	}},
	{name: "dir", kind: kString, enum: []string{"ltr", "rtl", "auto"}},
	{name: "lang", kind: kString},
	{name: "color_scheme", kind: kString, enum: []string{"auto", "light", "dark"}},
	{name: "device_type", kind: kArray, elem: kString},
	{name: "widgets", kind: kArray, elem: kObject, fields: []member{
		{name: "name", kind: kString, required: true},
		{name: "path", kind: kString, required: true},
		{name: "min_code", kind: kInt},
	}},
	{name: "x_openmini", kind: kObject, fields: []member{
		{name: "sdk_version", kind: kString},
		{name: "category", kind: kString},
	}},
}

// ParseManifest parses and checks manifest.json. It returns the manifest
// when there are no errors, the errors (each naming manifest.json, with a
// line and column for JSON syntax errors and a member path for the rest),
// and warnings about members it does not know. It never panics.
func ParseManifest(data []byte) (m *Manifest, errs, warnings []Problem) {
	const file = "manifest.json"
	add := func(list *[]Problem, format string, args ...any) {
		*list = append(*list, Problem{File: file, Message: fmt.Sprintf(format, args...)})
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // tolerate a UTF-8 BOM
	var doc any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		add(&errs, "%s", jsonErrorAt(data, err))
		return nil, errs, nil
	}
	if _, err := dec.Token(); err != io.EOF {
		line, col := lineCol(data, dec.InputOffset())
		add(&errs, "line %d, column %d: unexpected data after the JSON object", line, col)
		return nil, errs, nil
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		add(&errs, "must be a JSON object, not %s", jsonKind(doc))
		return nil, errs, nil
	}
	checkObject(obj, manifestSchema, "", &errs, &warnings)
	if len(errs) > 0 {
		return nil, errs, warnings
	}
	m = new(Manifest)
	if err := json.Unmarshal(data, m); err != nil {
		// The checker above accepted every member, so this is a bug.
		add(&errs, "%v", err)
		return nil, errs, warnings
	}
	if m.Version.Code <= 0 {
		add(&errs, "version.code must be a positive integer, not %d", m.Version.Code)
	}
	if strings.TrimSpace(m.AppID) == "" {
		add(&errs, "app_id must not be empty")
	}
	if strings.TrimSpace(m.Name) == "" {
		add(&errs, "name must not be empty")
	}
	if len(m.Pages) == 0 {
		add(&errs, "pages must list at least one page; the first is the entry page")
	}
	if m.Lang != "" {
		if _, err := language.Parse(m.Lang); err != nil {
			add(&errs, "lang %q is not a BCP 47 language tag", m.Lang)
		}
	}
	if len(errs) > 0 {
		return nil, errs, warnings
	}
	return m, nil, warnings
}

// checkObject type-checks obj against fields, recording errors and, for
// unknown members that are not namespaced, warnings.
func checkObject(obj map[string]any, fields []member, path string, errs, warnings *[]Problem) {
	known := make(map[string]bool, len(fields))
	for _, f := range fields {
		known[f.name] = true
		v, present := obj[f.name]
		name := path + f.name
		if !present {
			if f.required {
				*errs = append(*errs, Problem{"manifest.json", fmt.Sprintf("required member %q is missing", name)})
			}
			continue
		}
		checkValue(v, f, name, errs, warnings)
	}
	var unknown []string
	for k := range obj {
		if !known[k] && !strings.HasPrefix(k, "x_") {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		*warnings = append(*warnings, Problem{"manifest.json", fmt.Sprintf("unknown member %q is ignored (name extensions x_...)", path+k)})
	}
}

func checkValue(v any, f member, name string, errs, warnings *[]Problem) {
	wrong := func() {
		*errs = append(*errs, Problem{"manifest.json", fmt.Sprintf("member %q must be %s, not %s", name, f.kind, jsonKind(v))})
	}
	switch f.kind {
	case kString:
		s, ok := v.(string)
		if !ok {
			wrong()
			return
		}
		if f.enum != nil && !contains(f.enum, s) {
			*errs = append(*errs, Problem{"manifest.json", fmt.Sprintf("member %q must be one of %s, not %q", name, strings.Join(f.enum, ", "), s)})
		}
	case kBool:
		if _, ok := v.(bool); !ok {
			wrong()
		}
	case kInt:
		n, ok := v.(json.Number)
		if !ok {
			wrong()
			return
		}
		if _, err := n.Int64(); err != nil || strings.ContainsAny(n.String(), ".eE") {
			*errs = append(*errs, Problem{"manifest.json", fmt.Sprintf("member %q must be an integer, not %s", name, n)})
		}
	case kObject:
		o, ok := v.(map[string]any)
		if !ok {
			wrong()
			return
		}
		checkObject(o, f.fields, name+".", errs, warnings)
	case kArray:
		a, ok := v.([]any)
		if !ok {
			wrong()
			return
		}
		elem := member{kind: f.elem, fields: f.fields}
		for i, e := range a {
			checkValue(e, elem, fmt.Sprintf("%s[%d]", name, i), errs, warnings)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// jsonKind names the JSON type of a decoded value for messages.
func jsonKind(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number:
		return "the number " + v.String()
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	}
	return fmt.Sprintf("%T", v)
}

// jsonErrorAt describes a JSON decoding error with its line and column.
func jsonErrorAt(data []byte, err error) string {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		line, col := lineCol(data, se.Offset-1) // Offset counts the offending byte
		return fmt.Sprintf("line %d, column %d: invalid JSON: %v", line, col, se)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		line, col := lineCol(data, int64(len(data)))
		return fmt.Sprintf("line %d, column %d: invalid JSON: unexpected end of input", line, col)
	}
	return fmt.Sprintf("invalid JSON: %v", err)
}

// lineCol converts a byte offset into a 1-based line and column (columns
// count bytes, as editors showing UTF-8 mostly do for ASCII JSON).
func lineCol(data []byte, off int64) (line, col int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	if off < 0 {
		off = 0
	}
	before := data[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off) - bytes.LastIndexByte(before, '\n')
	return line, col
}
