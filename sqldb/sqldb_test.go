package sqldb_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openmini/openmini/internal/testenv"
	"github.com/openmini/openmini/sqldb"
)

func TestRebind(t *testing.T) {
	tests := []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"SELECT * FROM t WHERE a = ? AND b = ?", "SELECT * FROM t WHERE a = $1 AND b = $2"},
		{"SELECT '?' , ?", "SELECT '?' , $1"},
		{"SELECT 'it''s ?', ?", "SELECT 'it''s ?', $1"},
	}
	for _, tt := range tests {
		if got := sqldb.Rebind(tt.in); got != tt.want {
			t.Errorf("Rebind(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestStore(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		insert := func(q sqldb.Querier, email string) error {
			_, err := q.Exec(ctx, `INSERT INTO accounts (email, name, created_at) VALUES (?, ?, ?)`, email, "A", 1)
			return err
		}

		t.Run("unique violation maps to ErrUnique", func(t *testing.T) {
			if err := insert(db, "dup@example.com"); err != nil {
				t.Fatal(err)
			}
			err := insert(db, "dup@example.com")
			if !errors.Is(err, sqldb.ErrUnique) {
				t.Fatalf("second insert: got %v, want ErrUnique", err)
			}
		})

		t.Run("missing row maps to ErrNotFound", func(t *testing.T) {
			var name string
			err := db.QueryRow(ctx, `SELECT name FROM accounts WHERE email = ?`, "nobody@example.com").Scan(&name)
			if !errors.Is(err, sqldb.ErrNotFound) {
				t.Fatalf("got %v, want ErrNotFound", err)
			}
		})

		t.Run("foreign key enforced", func(t *testing.T) {
			_, err := db.Exec(ctx, `INSERT INTO sessions (token_hash, account_id, created_at, expires_at, last_seen_at) VALUES ('x', 999999, 1, 2, 1)`)
			if !errors.Is(err, sqldb.ErrForeignKey) {
				t.Fatalf("got %v, want ErrForeignKey", err)
			}
		})

		t.Run("check constraint enforced", func(t *testing.T) {
			_, err := db.Exec(ctx, `INSERT INTO accounts (email, name, staff_role, created_at) VALUES ('c@example.com', 'C', 'emperor', 1)`)
			if !errors.Is(err, sqldb.ErrCheck) {
				t.Fatalf("got %v, want ErrCheck", err)
			}
		})

		t.Run("failed transaction leaves nothing behind", func(t *testing.T) {
			boom := errors.New("boom")
			err := db.WithTx(ctx, func(tx *sqldb.Tx) error {
				if err := insert(tx, "half@example.com"); err != nil {
					return err
				}
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("WithTx returned %v, want boom", err)
			}
			var n int
			if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM accounts WHERE email = ?`, "half@example.com").Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Fatalf("rolled-back row is visible: %d rows", n)
			}
		})

		t.Run("concurrent read-modify-write transactions never lose an update", func(t *testing.T) {
			if _, err := db.Exec(ctx, `INSERT INTO platform_settings (key, value, updated_at) VALUES ('counter', '0', 0)`); err != nil {
				t.Fatal(err)
			}
			const workers, each = 8, 25
			var wg sync.WaitGroup
			errs := make(chan error, workers*each)
			for w := 0; w < workers; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < each; i++ {
						errs <- db.WithTx(ctx, func(tx *sqldb.Tx) error {
							var v int
							q := `SELECT CAST(value AS INTEGER) FROM platform_settings WHERE key = 'counter'`
							if tx.Dialect() == sqldb.Postgres {
								q += " FOR UPDATE"
							}
							if err := tx.QueryRow(ctx, q).Scan(&v); err != nil {
								return err
							}
							_, err := tx.Exec(ctx, `UPDATE platform_settings SET value = ? WHERE key = 'counter'`, fmtInt(v+1))
							return err
						})
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			var v int
			if err := db.QueryRow(ctx, `SELECT CAST(value AS INTEGER) FROM platform_settings WHERE key = 'counter'`).Scan(&v); err != nil {
				t.Fatal(err)
			}
			if v != workers*each {
				t.Fatalf("counter = %d, want %d", v, workers*each)
			}
		})

		t.Run("migrating again is a no-op", func(t *testing.T) {
			if err := sqldb.Migrate(ctx, db); err != nil {
				t.Fatal(err)
			}
		})
	})
}

func fmtInt(n int) string { return strconv.Itoa(n) }

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	ro := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(ro, 0o500); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		cfg     sqldb.Config
		wantErr string
	}{
		{"unsupported scheme", sqldb.Config{URL: "mysql://x/y"}, `--database-url: unsupported scheme "mysql"`},
		{"malformed", sqldb.Config{URL: "postgres://a b:%zz@host/db"}, "--database-url: malformed URL"},
		{"postgres without host", sqldb.Config{URL: "postgres:///db"}, "--database-url: postgres URL has no host"},
		{"unreachable postgres", sqldb.Config{URL: "postgres://u:secretpw@127.0.0.1:1/db?connect_timeout=2"}, "--database-url: cannot connect to postgres 127.0.0.1:1/db"},
		{"data dir is a file", sqldb.Config{DataDir: filepath.Join(writeFile(t), "sub")}, "--data: cannot create"},
	}
	if os.Geteuid() != 0 { // root ignores directory permissions
		tests = append(tests, struct {
			name    string
			cfg     sqldb.Config
			wantErr string
		}{"unwritable data dir", sqldb.Config{DataDir: ro}, "--data: directory"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := sqldb.Open(ctx, tt.cfg)
			if err == nil {
				db.Close()
				t.Fatalf("Open succeeded, want error %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %q does not contain %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "secretpw") {
				t.Fatalf("error leaks the password: %q", err)
			}
		})
	}
}

func writeFile(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestIsWrite(t *testing.T) {
	for q, want := range map[string]bool{
		"SELECT 1":             false,
		"  select * from jobs": false,
		"INSERT INTO jobs VALUES (1) RETURNING id":                  true,
		"\n\tupdate jobs set x = 1 returning id":                    true,
		"DELETE FROM jobs RETURNING id":                             true,
		"WITH x AS (SELECT 1) SELECT * FROM x":                      false,
		"WITH x AS (DELETE FROM jobs RETURNING id) SELECT * FROM x": true,
	} {
		if got := sqldb.IsWrite(q); got != want {
			t.Errorf("IsWrite(%q) = %v, want %v", q, got, want)
		}
	}
}

// TestStatementsInTransactions runs new and repeated statements inside and
// outside transactions from many goroutines: prepared statements are
// reused, and none waits for the connection its own transaction holds.
func TestStatementsInTransactions(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *sqldb.DB) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		var wg sync.WaitGroup
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				for i := 0; i < 20; i++ {
					key := fmt.Sprintf("k-%d-%d", g, i)
					err := db.WithTx(ctx, func(tx *sqldb.Tx) error {
						if _, err := tx.Exec(ctx, `INSERT INTO platform_settings (key, value, updated_at) VALUES (?, ?, ?)`, key, "v", i); err != nil {
							return err
						}
						var v string
						return tx.QueryRow(ctx, `SELECT value FROM platform_settings WHERE key = ?`, key).Scan(&v)
					})
					if err != nil {
						t.Error(err)
						return
					}
					var n int
					if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM platform_settings WHERE key LIKE ?`, fmt.Sprintf("k-%d-%%", g)).Scan(&n); err != nil || n != i+1 {
						t.Errorf("goroutine %d after %d inserts sees %d rows (%v)", g, i+1, n, err)
						return
					}
				}
			}(g)
		}
		wg.Wait()
		if ctx.Err() != nil {
			t.Fatal("statements in transactions did not finish: deadlock")
		}
	})
}
