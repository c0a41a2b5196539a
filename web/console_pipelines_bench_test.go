package web_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"

	"github.com/rosetta-cdc/rosetta/views/viewtest"
	"github.com/rosetta-cdc/rosetta/web/webtest"
)

// BenchmarkPipelinesPage serves the console's /pipelines (the first 50 of 5,000
// pipelines over 1,000 sources and 100 destinations, signed in, the full middleware
// stack, in process) one view at a time: what a view costs the server, apart from the
// database. Reported besides allocations: the process's CPU time per view (cpu-ns/op:
// wall time on a shared machine says more about the machine) and the page's size.
// Allocations per view are the figure that does not move with the machine's load.
//
//	go test -run '^$' -bench PipelinesPage -benchmem ./web/
func BenchmarkPipelinesPage(b *testing.B) {
	a := webtest.New(b)
	seedBenchFleet(b, a, 1000, 100,
		`INSERT INTO pipelines (name, source_id, destination_id)
		 SELECT 'pipeline-' || lpad(i::text, 5, '0'), (SELECT min(id) FROM sources) + i % 1000,
		 (SELECT min(id) FROM destinations) + i % 100 FROM generate_series(1, 5000) i`,
		`INSERT INTO pipeline_metadata (pipeline_id) SELECT id FROM pipelines ON CONFLICT DO NOTHING`)
	benchConsoleGet(b, a, "/pipelines")
}

// seedBenchFleet gives a benchmark's app sources sources and destinations
// destinations, named source-00001… and destination-001…, then runs more, then ANALYZE.
func seedBenchFleet(b *testing.B, a *webtest.App, sources, destinations int, more ...string) {
	b.Helper()
	ctx := context.Background()
	for _, q := range append([]string{
		`INSERT INTO sources (name, pg_host, pg_database, pg_username, pg_password, publication_name, replication_id)
		 SELECT 'source-' || lpad(i::text, 5, '0'), 'db.internal', 'app', 'rosetta', '\x00'::bytea, 'pub', 'slot'
		 FROM generate_series(1, ` + strconv.Itoa(sources) + `) i`,
		`INSERT INTO destinations (name, snowflake_account, snowflake_user, snowflake_database, snowflake_schema,
		 snowflake_role, snowflake_private_key_path)
		 SELECT 'destination-' || lpad(i::text, 3, '0'), 'acme', 'ROSETTA', 'RAW', 'PUBLIC', 'LOADER', '/etc/rosetta/key.p8'
		 FROM generate_series(1, ` + strconv.Itoa(destinations) + `) i`,
	}, append(more, `ANALYZE`)...) {
		if _, err := a.Pool.Exec(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
}

// benchConsoleGet serves GET path (signed in, the full middleware stack, in process)
// once to warm the caches, then b.N times, reporting besides allocations the process's
// CPU time per request (cpu-ns/op: wall time on a shared machine says more about the
// machine) and the answer's size.
func benchConsoleGet(b *testing.B, a *webtest.App, path string, headers ...string) {
	b.Helper()
	if r := a.Do(http.MethodGet, path, nil, headers...); r.Code != http.StatusOK {
		b.Fatalf("GET %s: %d", path, r.Code)
	}
	b.ReportAllocs()
	var bytes int
	cpu0 := viewtest.ProcessCPU()
	for b.Loop() {
		r := a.Do(http.MethodGet, path, nil, headers...)
		if r.Code != http.StatusOK {
			b.Fatalf("GET %s: %d", path, r.Code)
		}
		bytes += len(r.Body)
	}
	b.ReportMetric(float64(viewtest.ProcessCPU()-cpu0)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(bytes)/float64(b.N), "bytes/op")
}
