package web_test

import (
	"context"
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
	seedBenchFleet(b, a, 20000, 100)
	ctx := context.Background()
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
		b.Run(c.name, func(b *testing.B) { benchConsoleGet(b, a, c.path, c.headers...) })
	}
}
