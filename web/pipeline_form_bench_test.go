package web_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/rosetta-cdc/rosetta/web/webtest"
)

// BenchmarkPipelineFormPage serves the new pipeline form and its suggestions over issue
// 12's large fleet (20,000 sources, 100 destinations; signed in, the full middleware
// stack, in process), one request at a time: the page must cost the same whatever the
// fleet. Reported besides allocations: the process's CPU time per request (cpu-ns/op)
// and the answer's size (bytes/op), figures a loaded machine moves less than wall time.
//
//	go test -run '^$' -bench PipelineFormPage -benchmem ./web/
func BenchmarkPipelineFormPage(b *testing.B) {
	a := webtest.New(b)
	ctx := context.Background()
	for _, q := range []string{
		`INSERT INTO sources (name, pg_host, pg_database, pg_username, pg_password, publication_name, replication_id)
		 SELECT 'source-' || lpad(i::text, 5, '0'), 'db.internal', 'app', 'rosetta', '\x00'::bytea, 'pub', 'slot'
		 FROM generate_series(1, 20000) i`,
		`INSERT INTO destinations (name, snowflake_account, snowflake_user, snowflake_database, snowflake_schema,
		 snowflake_role, snowflake_private_key_path)
		 SELECT 'destination-' || lpad(i::text, 3, '0'), 'acme', 'ROSETTA', 'RAW', 'PUBLIC', 'LOADER', '/etc/rosetta/key.p8'
		 FROM generate_series(1, 100) i`,
		`ANALYZE`,
	} {
		if _, err := a.Pool.Exec(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	var far int64 // a source far past the first names: "New pipeline from this source"
	if err := a.Pool.QueryRow(ctx, `SELECT id FROM sources WHERE name = 'source-15000'`).Scan(&far); err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name, path string
		headers    []string
	}{
		{"new", "/pipelines/new", nil},
		{"new_from_source", "/pipelines/new?source_id=" + idStr(far), nil},
		{"suggestions", "/pipelines/filter/sources?source=source-150", []string{htmx}},
	} {
		b.Run(c.name, func(b *testing.B) {
			if r := a.Do(http.MethodGet, c.path, nil, c.headers...); r.Code != http.StatusOK { // warm the caches
				b.Fatalf("GET %s: %d", c.path, r.Code)
			}
			b.ReportAllocs()
			var bytes int
			cpu0 := pagesBenchCPU()
			for b.Loop() {
				r := a.Do(http.MethodGet, c.path, nil, c.headers...)
				if r.Code != http.StatusOK {
					b.Fatalf("GET %s: %d", c.path, r.Code)
				}
				bytes += len(r.Body)
			}
			b.ReportMetric(float64(pagesBenchCPU()-cpu0)/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(bytes)/float64(b.N), "bytes/op")
		})
	}
}
