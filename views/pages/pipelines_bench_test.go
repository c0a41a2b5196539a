package pages_test

import (
	"context"
	"fmt"
	"io"
	"syscall"
	"testing"
	"time"

	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/views/layout"
	"github.com/rosetta-cdc/rosetta/views/pages"
	"github.com/rosetta-cdc/rosetta/views/partials"
)

// BenchmarkPipelinesPageRender renders the console's whole /pipelines page (layout,
// search form and filters, 50 rows, an operator who may take every action) as the
// handler does, without the database or the middleware: the render's share of a view.
// Besides allocations it reports the process's CPU time per render (cpu-ns/op: wall
// time on a shared machine says more about the machine) and the page's size.
//
//	go test -run '^$' -bench PipelinesPageRender -benchmem ./views/pages/
func BenchmarkPipelinesPageRender(b *testing.B) {
	meta, l := benchPipelinesPage()
	b.ReportAllocs()
	var n countWriter
	cpu0 := renderCPU()
	for b.Loop() {
		if err := pages.PipelinesPage(meta, l).Render(context.Background(), &n); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(renderCPU()-cpu0)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(n)/float64(b.N), "bytes/op")
}

// benchPipelinesPage is the benchmark's page: the first 50 of 5,000 pipelines, paused,
// running and failing, for a signed-in operator.
func benchPipelinesPage() (layout.PageMeta, partials.PipelineList) {
	allow := func(string) bool { return true }
	meta := layout.PageMeta{Title: "Pipelines", Nav: layout.NavPipelines,
		CSRFToken: "dGhpcyBpcyBhIGNzcmYgdG9rZW4gb2YgdGhlIHJpZ2h0IGxlbmd0aCBmb3IgdGhlIGJlbmNobWFyayBvbmx5IQ",
		User:      &layout.UserInfo{Email: "operator@example.com", Role: "operator"}, Access: allow}
	items := make([]catalog.Pipeline, 50)
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for i := range items {
		p := catalog.Pipeline{ID: int64(1000 + i), Name: fmt.Sprintf("pipeline-%05d", i), Status: catalog.DesiredPause,
			SourceID: int64(i), DestinationID: int64(i % 100), CreatedAt: at, UpdatedAt: at,
			Source:      catalog.EntityRef{Name: fmt.Sprintf("source-%05d", i)},
			Destination: catalog.EntityRef{Name: fmt.Sprintf("destination-%03d", i%100)},
			Metadata:    catalog.PipelineMetadata{Status: catalog.RuntimePaused}}
		if i%10 == 0 {
			p.Status, p.Metadata.Status = catalog.DesiredStart, catalog.RuntimeRunning
		}
		if i%20 == 0 {
			msg := "slot lost"
			p.Metadata.Status, p.Metadata.LastError, p.Metadata.LastErrorAt = catalog.RuntimeError, &msg, &at
		}
		items[i] = p
	}
	l := partials.PipelineList{Page: catalog.Page[catalog.Pipeline]{Items: items, Total: 5000, Limit: 50},
		Row:   partials.RowContext{CSRFToken: meta.CSRFToken, Access: allow, Next: "/pipelines"},
		State: partials.ListState{BaseURL: "/pipelines", DefaultSort: "name"}}
	return meta, l
}

// renderCPU is the CPU time (user + system) the process has used so far.
func renderCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type countWriter int

func (w *countWriter) Write(p []byte) (int, error) { *w += countWriter(len(p)); return len(p), nil }

var _ io.Writer = (*countWriter)(nil)
