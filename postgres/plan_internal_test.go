package postgres

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/latchkey/latchkey/internal/bulk"
	"github.com/latchkey/latchkey/internal/pgtest"
	"github.com/latchkey/latchkey/internal/storetest"
)

// largeTables are the tables that grow with the users: a sequential scan of one of them is a
// query that slows down as the deployment grows.
var largeTables = map[string]bool{"users": true, "identities": true, "api_keys": true, "sessions": true}

// statementLog records the statements a pool sends, with their arguments.
type statementLog struct {
	mu    sync.Mutex
	stmts []loggedStatement
}

type loggedStatement struct {
	sql  string
	args []any
}

func (l *statementLog) add(sql string, args []any) {
	l.mu.Lock()
	l.stmts = append(l.stmts, loggedStatement{sql, args})
	l.mu.Unlock()
}

func (l *statementLog) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	l.add(d.SQL, d.Args)
	return ctx
}

func (l *statementLog) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (l *statementLog) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}

func (l *statementLog) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	l.add(d.SQL, d.Args)
}

func (l *statementLog) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// TestQueryPlans seeds a store with tens of thousands of users, keys and sessions, analyzes
// it, runs every admin filter and hot-path operation through a store whose statements are
// recorded, and EXPLAINs each recorded statement with its arguments: none may read a large
// table sequentially. The planner's choices come from real statistics, not from disabling
// sequential scans.
func TestQueryPlans(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	s, err := Open(ctx, Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	w := storetest.SeedPlans(t, s, bulk.MustOpen(t, url).Insert)
	for _, q := range []string{
		// Every user of the big app has a session; a tenth of them has a key session.
		`INSERT INTO sessions (id, app_id, user_id, device_id, provider, created_at, expires_at)
			SELECT substr(md5(id), 1, 24), app_id, id, '000000000000000000000000', 'local-userpass', now(),
				now() + interval '30 days' FROM users`,
		`UPDATE sessions SET api_key_id = k.id, provider = 'api-key' FROM api_keys k
			WHERE k.user_id = sessions.user_id AND right(sessions.user_id, 1) = '0'`,
		`ANALYZE`,
	} {
		if _, err := s.pool.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}

	log := &statementLog{}
	pc, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	pc.ConnConfig.Tracer = log
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		t.Fatal(err)
	}
	traced := &Store{pool: pool, probe: newProbeConn(pc.ConnConfig), acquireTimeout: DefaultAcquireTimeout}
	t.Cleanup(func() { traced.Close() })
	w.Run(t, traced)

	for _, st := range log.stmts {
		verb := strings.ToUpper(strings.Fields(st.sql)[0])
		if verb != "SELECT" && verb != "WITH" && verb != "UPDATE" && verb != "DELETE" {
			continue // BEGIN, COMMIT, SET, INSERT
		}
		var plan []struct{ Plan planNode }
		var raw []byte
		if err := s.pool.QueryRow(ctx, `EXPLAIN (FORMAT JSON) `+st.sql, st.args...).Scan(&raw); err != nil {
			t.Fatalf("EXPLAIN %s: %v", st.sql, err)
		}
		if err := json.Unmarshal(raw, &plan); err != nil {
			t.Fatal(err)
		}
		if scans := plan[0].Plan.seqScans(); len(scans) > 0 {
			t.Errorf("sequential scan of %v in\n%s", scans, st.sql)
		}
		// An external login finds its identity by the unique index, not among every
		// identity of the provider type.
		if strings.Contains(st.sql, "external_id = $3") && !plan[0].Plan.uses(externalIdentityKey) {
			t.Errorf("the plan of\n%s\ndoes not use %s", st.sql, externalIdentityKey)
		}
	}
	if len(log.stmts) < 20 {
		t.Fatalf("recorded %d statements, want the whole workload", len(log.stmts))
	}
}

// planNode is a node of an EXPLAIN (FORMAT JSON) plan.
type planNode struct {
	NodeType string     `json:"Node Type"`
	Relation string     `json:"Relation Name"`
	Index    string     `json:"Index Name"`
	Plans    []planNode `json:"Plans"`
}

// uses reports whether the plan reads the index.
func (n planNode) uses(index string) bool {
	if n.Index == index {
		return true
	}
	for _, c := range n.Plans {
		if c.uses(index) {
			return true
		}
	}
	return false
}

// seqScans returns the large tables that the plan reads sequentially.
func (n planNode) seqScans() []string {
	var scans []string
	if n.NodeType == "Seq Scan" && largeTables[n.Relation] {
		scans = append(scans, n.Relation)
	}
	for _, c := range n.Plans {
		scans = append(scans, c.seqScans()...)
	}
	return scans
}
