package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/rosetta-cdc/rosetta/internal/auth"
	"github.com/rosetta-cdc/rosetta/internal/logs"
	"github.com/rosetta-cdc/rosetta/views/viewtest"
	"github.com/rosetta-cdc/rosetta/web/webtest"
)

// BenchmarkAPIRequest is the server's own CPU per API request, the figure issue 12's
// budgets 1 and 2 hinge on: the whole echo stack (request id, security headers, request
// log, access check with the cached token, input check, huma, the catalog, pgx on real
// PostgreSQL, JSON) in process, without sockets on the client side, so allocations and
// a CPU profile (-cpuprofile) show the server's part alone. cmd/rosetta-bench measures
// the same requests against the real binary over TCP.
//
//	go test -run '^$' -bench APIRequest -benchmem ./web/
func BenchmarkAPIRequest(b *testing.B) {
	// Production's logger: info level, text, secrets redacted, written to a sink.
	log := logs.New(io.Discard, logs.Options{Level: slog.LevelInfo})
	a := webtest.New(b, webtest.WithLogger(log))
	ctx := context.Background()
	sealed, err := a.Box.Seal("bench-password")
	if err != nil {
		b.Fatal(err)
	}
	// A fleet in cmd/rosetta-bench's shape, smaller: every source has a WAL sample, and
	// there are more pipelines than a page.
	for _, q := range []string{
		`INSERT INTO sources (name, pg_host, pg_port, pg_database, pg_username, pg_password, publication_name, replication_id)
		 SELECT format('source-%s', lpad(g::text, 5, '0')), format('db%s.bench.internal', g), 5432, 'app', 'rosetta',
		        @sealed::bytea, 'rosetta_pub', format('rosetta_slot_%s', g) FROM generate_series(1, 100) g`,
		`INSERT INTO destinations (name, snowflake_account, snowflake_user, snowflake_database, snowflake_schema, snowflake_role,
		                           snowflake_private_key_path)
		 SELECT format('destination-%s', lpad(g::text, 4, '0')), 'xy12345', 'LOADER', 'ANALYTICS', 'PUBLIC', 'LOADER_ROLE',
		        '/keys/loader.p8' FROM generate_series(1, 10) g`,
		`WITH s AS (SELECT array_agg(id ORDER BY id) a FROM sources), d AS (SELECT array_agg(id ORDER BY id) a FROM destinations)
		 INSERT INTO pipelines (name, source_id, destination_id, status)
		 SELECT format('pipeline-%s-%s', left(md5(g::text), 6), g), s.a[1 + (g - 1) % cardinality(s.a)],
		        d.a[1 + (g - 1) % cardinality(d.a)], CASE WHEN g % 10 = 0 THEN 'START' ELSE 'PAUSE' END
		 FROM generate_series(1, 500) g, s, d`,
		`INSERT INTO pipeline_metadata (pipeline_id, status, last_error, last_error_at)
		 SELECT id, CASE WHEN status = 'START' AND id % 20 = 0 THEN 'ERROR' WHEN status = 'START' THEN 'RUNNING' ELSE 'PAUSED' END,
		        CASE WHEN status = 'START' AND id % 20 = 0 THEN 'slot lost' END, CASE WHEN status = 'START' AND id % 20 = 0 THEN now() END
		 FROM pipelines`,
		`SELECT wal_metrics_ensure_partitions(now() - interval '1 day', now() + interval '1 day')`,
		`INSERT INTO wal_metrics (source_id, size_bytes, retained_bytes, slot_active, wal_status, recorded_at)
		 SELECT id, 1073741824 + id, 1048576 * id, true, 'reserved', now() - interval '1 minute' FROM sources`,
		`ANALYZE`,
	} {
		if _, err := a.Pool.Exec(ctx, q, pgx.NamedArgs{"sealed": sealed}); err != nil {
			b.Fatal(err)
		}
	}
	var source int64
	if err := a.Pool.QueryRow(ctx, `SELECT min(id) FROM sources`).Scan(&source); err != nil {
		b.Fatal(err)
	}
	bearer := "Bearer " + a.NewUser(auth.Operator).Token
	for _, bc := range []struct{ name, path string }{
		{"single", "/api/v1/sources/" + strconv.FormatInt(source, 10)},
		{"list", "/api/v1/pipelines?limit=50"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			req, err := http.NewRequest(http.MethodGet, bc.path, nil)
			if err != nil {
				b.Fatal(err)
			}
			req.RemoteAddr = "127.0.0.1:40000"
			req.Header.Set("Authorization", bearer)
			h := a.Server.Handler()
			w := &sinkWriter{header: http.Header{}}
			b.ReportAllocs()
			cpu0 := viewtest.ProcessCPU()
			for b.Loop() {
				w.reset()
				h.ServeHTTP(w, req.Clone(ctx))
				if w.status != http.StatusOK || w.n == 0 {
					b.Fatalf("%s: status %d, %d bytes", bc.path, w.status, w.n)
				}
			}
			// CPU time, not wall time, is what a request costs the server on a shared
			// machine (PostgreSQL's own work is in its processes, not counted here).
			b.ReportMetric(float64(viewtest.ProcessCPU()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// sinkWriter is a ResponseWriter that keeps only the status and the body's length.
type sinkWriter struct {
	header http.Header
	status int
	n      int
}

func (w *sinkWriter) reset() {
	clear(w.header)
	w.status, w.n = 0, 0
}

func (w *sinkWriter) Header() http.Header { return w.header }

func (w *sinkWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *sinkWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.n += len(p)
	return len(p), nil
}
