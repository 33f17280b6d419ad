package sqldb_test

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/openmini/openmini/internal/testenv"
	"github.com/openmini/openmini/sqldb"
)

// schema is an engine-neutral description of a database: one sorted line per
// table column, index, foreign key and named check constraint.
type schema []string

// canonicalType maps each engine's declared type to one vocabulary.
func canonicalType(t string) string {
	switch strings.ToLower(strings.TrimSpace(t)) {
	case "integer", "bigint", "int8", "int", "int4":
		return "int"
	case "text", "character varying":
		return "text"
	case "blob", "bytea":
		return "bytes"
	case "boolean", "bool":
		return "bool"
	case "real", "double precision", "float8":
		return "float"
	}
	return "?" + t
}

var checkName = regexp.MustCompile(`(?i)CONSTRAINT\s+(\w+)\s+CHECK`)

func describeSQLite(ctx context.Context, t *testing.T, db *sqldb.DB) schema {
	var out schema
	rows, err := db.Query(ctx, `SELECT name, sql FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'goose_db_version'`)
	if err != nil {
		t.Fatal(err)
	}
	type tbl struct{ name, sql string }
	var tables []tbl
	for rows.Next() {
		var x tbl
		if err := rows.Scan(&x.name, &x.sql); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, x)
	}
	rows.Close()
	for _, tb := range tables {
		cols, err := db.Query(ctx, `SELECT name, type, "notnull", pk FROM pragma_table_info(?)`, tb.name)
		if err != nil {
			t.Fatal(err)
		}
		for cols.Next() {
			var name, typ string
			var notnull, pk int
			if err := cols.Scan(&name, &typ, &notnull, &pk); err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("column %s.%s %s notnull=%v pk=%v", tb.name, name, canonicalType(typ), notnull == 1 || pk > 0, pk > 0))
		}
		cols.Close()
		idx, err := db.Query(ctx, `SELECT name, "unique", origin FROM pragma_index_list(?)`, tb.name)
		if err != nil {
			t.Fatal(err)
		}
		type ix struct {
			name   string
			unique int
			origin string
		}
		var ixs []ix
		for idx.Next() {
			var x ix
			if err := idx.Scan(&x.name, &x.unique, &x.origin); err != nil {
				t.Fatal(err)
			}
			ixs = append(ixs, x)
		}
		idx.Close()
		for _, x := range ixs {
			if x.origin == "pk" {
				continue
			}
			var colNames []string
			ic, err := db.Query(ctx, `SELECT name FROM pragma_index_info(?) ORDER BY seqno`, x.name)
			if err != nil {
				t.Fatal(err)
			}
			for ic.Next() {
				var c string
				ic.Scan(&c)
				colNames = append(colNames, c)
			}
			ic.Close()
			out = append(out, fmt.Sprintf("index %s(%s) unique=%v", tb.name, strings.Join(colNames, ","), x.unique == 1))
		}
		fks, err := db.Query(ctx, `SELECT "table", "from", "to", on_delete FROM pragma_foreign_key_list(?)`, tb.name)
		if err != nil {
			t.Fatal(err)
		}
		for fks.Next() {
			var ref, from, to, onDelete string
			fks.Scan(&ref, &from, &to, &onDelete)
			out = append(out, fmt.Sprintf("fk %s.%s -> %s.%s on delete %s", tb.name, from, ref, to, strings.ToLower(onDelete)))
		}
		fks.Close()
		for _, m := range checkName.FindAllStringSubmatch(tb.sql, -1) {
			out = append(out, fmt.Sprintf("check %s %s", tb.name, m[1]))
		}
	}
	sort.Strings(out)
	return out
}

func describePostgres(ctx context.Context, t *testing.T, db *sqldb.DB) schema {
	var out schema
	add := func(query string, scan func(rows interface{ Scan(...any) error }) string) {
		rows, err := db.Query(ctx, query)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			out = append(out, scan(rows))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	add(`SELECT c.table_name, c.column_name, c.data_type, c.is_nullable = 'NO',
	            EXISTS (SELECT 1 FROM information_schema.table_constraints tc
	                    JOIN information_schema.key_column_usage k
	                      ON k.constraint_name = tc.constraint_name AND k.table_name = tc.table_name
	                    WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_name = c.table_name AND k.column_name = c.column_name)
	     FROM information_schema.columns c
	     WHERE c.table_schema = current_schema() AND c.table_name <> 'goose_db_version'`,
		func(r interface{ Scan(...any) error }) string {
			var tb, col, typ string
			var notnull, pk bool
			if err := r.Scan(&tb, &col, &typ, &notnull, &pk); err != nil {
				t.Fatal(err)
			}
			return fmt.Sprintf("column %s.%s %s notnull=%v pk=%v", tb, col, canonicalType(typ), notnull, pk)
		})
	add(`SELECT t.relname, ix.indisunique,
	            (SELECT string_agg(a.attname, ',' ORDER BY k.n)
	               FROM unnest(ix.indkey) WITH ORDINALITY AS k(attnum, n)
	               JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum)
	     FROM pg_index ix
	     JOIN pg_class t ON t.oid = ix.indrelid
	     JOIN pg_namespace ns ON ns.oid = t.relnamespace
	     WHERE ns.nspname = current_schema() AND NOT ix.indisprimary AND t.relname <> 'goose_db_version'`,
		func(r interface{ Scan(...any) error }) string {
			var tb, cols string
			var unique bool
			if err := r.Scan(&tb, &unique, &cols); err != nil {
				t.Fatal(err)
			}
			return fmt.Sprintf("index %s(%s) unique=%v", tb, cols, unique)
		})
	add(`SELECT tc.table_name, kcu.column_name, ccu.table_name, ccu.column_name, rc.delete_rule
	     FROM information_schema.table_constraints tc
	     JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema
	     JOIN information_schema.constraint_column_usage ccu ON ccu.constraint_name = tc.constraint_name AND ccu.table_schema = tc.table_schema
	     JOIN information_schema.referential_constraints rc ON rc.constraint_name = tc.constraint_name AND rc.constraint_schema = tc.table_schema
	     WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = current_schema()`,
		func(r interface{ Scan(...any) error }) string {
			var tb, col, ref, refCol, onDelete string
			if err := r.Scan(&tb, &col, &ref, &refCol, &onDelete); err != nil {
				t.Fatal(err)
			}
			return fmt.Sprintf("fk %s.%s -> %s.%s on delete %s", tb, col, ref, refCol, strings.ToLower(onDelete))
		})
	add(`SELECT rel.relname, con.conname FROM pg_constraint con
	     JOIN pg_class rel ON rel.oid = con.conrelid
	     JOIN pg_namespace ns ON ns.oid = rel.relnamespace
	     WHERE con.contype = 'c' AND ns.nspname = current_schema()`,
		func(r interface{ Scan(...any) error }) string {
			var tb, name string
			if err := r.Scan(&tb, &name); err != nil {
				t.Fatal(err)
			}
			return fmt.Sprintf("check %s %s", tb, name)
		})
	sort.Strings(out)
	return out
}

// TestSchemasMatch migrates an empty SQLite and an empty PostgreSQL database
// and proves both end with the same tables, columns, types, nullability,
// primary keys, indexes, foreign keys and check constraints.
func TestSchemasMatch(t *testing.T) {
	ctx := context.Background()
	lite := dropSearchOnly(describeSQLite(ctx, t, testenvOpen(t, "sqlite")))
	pg := dropSearchOnly(describePostgres(ctx, t, testenvOpen(t, "postgres")))
	if len(lite) < 10 {
		t.Fatalf("sqlite schema suspiciously small: %v", lite)
	}
	for _, l := range lite {
		if strings.Contains(l, " ?") {
			t.Errorf("sqlite: unmapped type in %q", l)
		}
	}
	missing := diff(lite, pg)
	extra := diff(pg, lite)
	for _, m := range missing {
		t.Errorf("in SQLite but not PostgreSQL: %s", m)
	}
	for _, e := range extra {
		t.Errorf("in PostgreSQL but not SQLite: %s", e)
	}
}

// searchOnlyTables are full-text search objects that each engine builds its
// own way, so they exist under the same name with different shapes: FTS5
// virtual tables (and their _data/_idx/... shadow tables) on SQLite, tsvector
// and pg_trgm tables on PostgreSQL. Both dialects must keep every other table
// identical. See docs/discovery.md, "Search storage".
var searchOnlyTables = []string{"discovery_fts", "discovery_terms_trgm"}

// dropSearchOnly removes the lines describing searchOnlyTables.
func dropSearchOnly(s schema) schema {
	var out schema
	for _, line := range s {
		// "column T.c ...", "index T(...)", "fk T.c -> ...", "check T name"
		_, rest, _ := strings.Cut(line, " ")
		table := rest[:strings.IndexAny(rest+" ", ".( ")]
		skip := false
		for _, name := range searchOnlyTables {
			if table == name || strings.HasPrefix(table, name+"_") {
				skip = true
			}
		}
		if !skip {
			out = append(out, line)
		}
	}
	return out
}

func diff(a, b schema) []string {
	in := map[string]bool{}
	for _, x := range b {
		in[x] = true
	}
	var out []string
	for _, x := range a {
		if !in[x] {
			out = append(out, x)
		}
	}
	return out
}

func testenvOpen(t *testing.T, dialect string) *sqldb.DB {
	t.Helper()
	var u string
	if dialect == "postgres" {
		u = testenv.PostgresURL(t)
	} else {
		u = "sqlite://" + t.TempDir() + "/openmini.db"
	}
	db, err := sqldb.Open(context.Background(), sqldb.Config{URL: u, DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
