package web

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
)

// JSON Schemas (the 2020-12 dialect OpenAPI 3.1 uses) generated from Go
// types by the rules of encoding/json: json tags name properties, "-"
// hides them, omitempty and omitzero make them optional, embedded structs
// are flattened, time.Time is a date-time string, json.RawMessage and
// interfaces are any JSON, []byte is base64, nil-able values (pointers,
// slices, maps) may be null. Named structs become components/schemas,
// referenced with $ref. Structs are closed (additionalProperties: false):
// a Go struct encodes exactly its fields, and decoding refuses others.

// jsonSchema is the subset of JSON Schema the generator writes.
type jsonSchema struct {
	Ref                  string        `json:"$ref,omitempty"`
	Type                 any           `json:"type,omitempty"` // a name, or []string with "null"
	Format               string        `json:"format,omitempty"`
	Description          string        `json:"description,omitempty"`
	Enum                 []string      `json:"enum,omitempty"`
	ContentMediaType     string        `json:"contentMediaType,omitempty"`
	ContentEncoding      string        `json:"contentEncoding,omitempty"`
	Items                *jsonSchema   `json:"items,omitempty"`
	Properties           properties    `json:"properties,omitempty"`
	Required             []string      `json:"required,omitempty"`
	AdditionalProperties any           `json:"additionalProperties,omitempty"` // *jsonSchema or false
	AnyOf                []*jsonSchema `json:"anyOf,omitempty"`

	refType reflect.Type // for $ref: the named struct, resolved by finish
}

// property is one named property; properties keep the Go field order.
type property struct {
	name   string
	schema *jsonSchema
}

type properties []property

func (ps properties) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, p := range ps {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(p.name)
		v, err := json.Marshal(p.schema)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// property returns the schema of the named property, or nil.
func (s *jsonSchema) property(name string) *jsonSchema {
	if s == nil {
		return nil
	}
	for _, p := range s.Properties {
		if p.name == name {
			return p.schema
		}
	}
	return nil
}

var (
	timeType       = reflect.TypeFor[time.Time]()
	rawMessageType = reflect.TypeFor[json.RawMessage]()
	marshalerType  = reflect.TypeFor[json.Marshaler]()
	textMarshaler  = reflect.TypeFor[encoding.TextMarshaler]()
	componentName  = regexp.MustCompile(`[^A-Za-z0-9._-]+`)
)

// schemaGen turns Go types into schemas, collecting named structs as
// components.
type schemaGen struct {
	structs map[reflect.Type]*jsonSchema // named struct -> its object schema
	order   []reflect.Type
	refs    []*jsonSchema
	errs    []error
}

func newSchemaGen() *schemaGen {
	return &schemaGen{structs: map[reflect.Type]*jsonSchema{}}
}

// of returns the schema of a table value: fields, nonNull, or a Go value
// whose type is described.
func (g *schemaGen) of(v any) *jsonSchema {
	switch v := v.(type) {
	case fields:
		s := &jsonSchema{Type: "object", AdditionalProperties: false}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			s.Properties = append(s.Properties, property{k, g.of(v[k])})
			s.Required = append(s.Required, k)
		}
		return s
	case nonNull:
		return g.typeSchema(reflect.TypeOf(v.v), false)
	case nil:
		return &jsonSchema{Type: "null"}
	}
	return g.typeSchema(reflect.TypeOf(v), true)
}

// typeSchema describes t; nilable says whether a nil pointer, slice or map
// of this type may be sent (as null).
func (g *schemaGen) typeSchema(t reflect.Type, nilable bool) *jsonSchema {
	switch {
	case t == timeType:
		return &jsonSchema{Type: "string", Format: "date-time"}
	case t == rawMessageType:
		return &jsonSchema{Description: "Any JSON value."}
	case t.Implements(marshalerType) || reflect.PointerTo(t).Implements(marshalerType):
		g.errs = append(g.errs, fmt.Errorf("type %s has its own MarshalJSON: describe its JSON in openapi_schema.go", t))
		return &jsonSchema{}
	case t.Kind() != reflect.Pointer && (t.Implements(textMarshaler) || reflect.PointerTo(t).Implements(textMarshaler)):
		return &jsonSchema{Type: "string"}
	}
	switch t.Kind() {
	case reflect.Bool:
		return &jsonSchema{Type: "boolean"}
	case reflect.Int, reflect.Int64, reflect.Uint, reflect.Uint64, reflect.Uintptr:
		return &jsonSchema{Type: "integer", Format: "int64"}
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Uint8, reflect.Uint16, reflect.Uint32:
		return &jsonSchema{Type: "integer", Format: "int32"}
	case reflect.Float32, reflect.Float64:
		return &jsonSchema{Type: "number"}
	case reflect.String:
		return &jsonSchema{Type: "string"}
	case reflect.Interface:
		return &jsonSchema{}
	case reflect.Pointer:
		return nullable(g.typeSchema(t.Elem(), true), nilable)
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 && !t.Elem().Implements(marshalerType) && !t.Elem().Implements(textMarshaler) {
			return nullable(&jsonSchema{Type: "string", ContentEncoding: "base64"}, nilable)
		}
		return nullable(&jsonSchema{Type: "array", Items: g.typeSchema(t.Elem(), true)}, nilable)
	case reflect.Array:
		return &jsonSchema{Type: "array", Items: g.typeSchema(t.Elem(), true)}
	case reflect.Map:
		k := t.Key()
		if k.Kind() != reflect.String && !k.Implements(textMarshaler) && (k.Kind() < reflect.Int || k.Kind() > reflect.Uintptr) {
			g.errs = append(g.errs, fmt.Errorf("map key type %s cannot be encoded as JSON", k))
		}
		return nullable(&jsonSchema{Type: "object", AdditionalProperties: g.typeSchema(t.Elem(), true)}, nilable)
	case reflect.Struct:
		if t.Name() == "" {
			return g.structSchema(t)
		}
		if _, ok := g.structs[t]; !ok {
			g.structs[t] = nil // placeholder: recursive types refer to themselves
			g.order = append(g.order, t)
			g.structs[t] = g.structSchema(t)
		}
		ref := &jsonSchema{refType: t}
		g.refs = append(g.refs, ref)
		return ref
	}
	g.errs = append(g.errs, fmt.Errorf("type %s cannot be encoded as JSON", t))
	return &jsonSchema{}
}

// nullable lets s also be null when nilable is set.
func nullable(s *jsonSchema, nilable bool) *jsonSchema {
	if !nilable {
		return s
	}
	if t, ok := s.Type.(string); ok {
		s.Type = []string{t, "null"}
		return s
	}
	if s.refType != nil {
		return &jsonSchema{AnyOf: []*jsonSchema{s, {Type: "null"}}}
	}
	return s // any JSON already includes null
}

// structSchema is the object schema of a struct type.
func (g *schemaGen) structSchema(t reflect.Type) *jsonSchema {
	s := &jsonSchema{Type: "object", AdditionalProperties: false}
	for _, f := range jsonFields(t) {
		var fs *jsonSchema
		if f.quoted {
			fs = &jsonSchema{Type: "string", Description: "A " + f.typ.Kind().String() + " in a string."}
		} else {
			fs = g.typeSchema(f.typ, !f.omitNil)
		}
		s.Properties = append(s.Properties, property{f.name, fs})
		if !f.optional {
			s.Required = append(s.Required, f.name)
		}
	}
	return s
}

// finish names the collected structs and resolves every $ref. A struct is
// named after its Go type; when two packages use one name, both get their
// package's name in front (AppVersion, MiniappVersion). APIError is
// "Error".
func (g *schemaGen) finish() (map[string]*jsonSchema, error) {
	if len(g.errs) > 0 {
		return nil, g.errs[0]
	}
	base := func(t reflect.Type) string {
		if t == reflect.TypeFor[APIError]() {
			return "Error"
		}
		return componentName.ReplaceAllString(t.Name(), "_")
	}
	count := map[string]int{}
	for _, t := range g.order {
		count[base(t)]++
	}
	names := map[reflect.Type]string{}
	out := map[string]*jsonSchema{}
	for _, t := range g.order {
		n := base(t)
		if count[n] > 1 {
			pkg := t.PkgPath()[strings.LastIndexByte(t.PkgPath(), '/')+1:]
			r := []rune(componentName.ReplaceAllString(pkg, "_"))
			r[0] = unicode.ToUpper(r[0])
			n = string(r) + n
		}
		if out[n] != nil {
			return nil, fmt.Errorf("two types are both named %s in the schemas: %s", n, t)
		}
		names[t] = n
		out[n] = g.structs[t]
	}
	for _, r := range g.refs {
		r.Ref = "#/components/schemas/" + names[r.refType]
	}
	return out, nil
}

// jsonField is a property of a struct's JSON encoding.
type jsonField struct {
	name     string
	typ      reflect.Type
	optional bool // may be left out (omitempty, omitzero, or inside a nil embedded pointer)
	quoted   bool // the ",string" option
	omitNil  bool // a nil pointer, slice or map is left out, never sent as null
	depth    int
	tagged   bool
}

// jsonFields lists the properties encoding/json writes for struct type t,
// in order, following its rules for embedded structs: a shallower field
// hides deeper ones of the same name, and among equally deep ones a single
// tagged field wins, else all are dropped.
func jsonFields(t reflect.Type) []jsonField {
	var all []jsonField
	var walk func(t reflect.Type, depth int, viaPtr bool, seen []reflect.Type)
	walk = func(t reflect.Type, depth int, viaPtr bool, seen []reflect.Type) {
		if slices.Contains(seen, t) {
			return
		}
		seen = append(seen, t)
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			ft := f.Type
			if f.Anonymous && name == "" {
				et := ft
				if et.Kind() == reflect.Pointer {
					et = et.Elem()
				}
				if et.Kind() == reflect.Struct {
					walk(et, depth+1, viaPtr || ft.Kind() == reflect.Pointer, seen)
					continue
				}
				if !f.IsExported() {
					continue
				}
			} else if !f.IsExported() {
				continue
			}
			jf := jsonField{name: name, typ: ft, depth: depth, tagged: name != ""}
			if name == "" {
				jf.name = f.Name
			}
			omitempty, omitzero := hasOpt(opts, "omitempty"), hasOpt(opts, "omitzero")
			jf.optional = viaPtr || omitzero || (omitempty && emptyable(ft))
			jf.omitNil = omitzero || omitempty
			if hasOpt(opts, "string") {
				switch ft.Kind() {
				case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
					reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
					reflect.Float32, reflect.Float64:
					jf.quoted = true
				}
			}
			all = append(all, jf)
		}
	}
	walk(t, 0, false, nil)

	var out []jsonField
	for i, f := range all {
		var rivals []jsonField
		first := true
		for j, o := range all {
			if o.name == f.name {
				rivals = append(rivals, o)
				if j < i {
					first = false
				}
			}
		}
		if !first {
			continue
		}
		if w, ok := dominant(rivals); ok {
			out = append(out, w)
		}
	}
	return out
}

// dominant picks the field encoding/json keeps among fields of one name.
func dominant(fs []jsonField) (jsonField, bool) {
	least := fs[0].depth
	for _, f := range fs {
		least = min(least, f.depth)
	}
	var top []jsonField
	for _, f := range fs {
		if f.depth == least {
			top = append(top, f)
		}
	}
	if len(top) == 1 {
		return top[0], true
	}
	var tagged []jsonField
	for _, f := range top {
		if f.tagged {
			tagged = append(tagged, f)
		}
	}
	if len(tagged) == 1 {
		return tagged[0], true
	}
	return jsonField{}, false
}

func hasOpt(opts, want string) bool {
	for o := range strings.SplitSeq(opts, ",") {
		if o == want {
			return true
		}
	}
	return false
}

// emptyable reports whether omitempty can leave a value of type t out
// (encoding/json never counts a struct as empty).
func emptyable(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String, reflect.Bool,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Interface, reflect.Pointer:
		return true
	}
	return false
}
