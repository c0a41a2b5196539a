package partials

import (
	"context"
	"fmt"
	"io"
	"syscall"
	"testing"
	"time"

	"github.com/rosetta-cdc/rosetta/internal/catalog"
)

// BenchmarkPipelineTable renders the console's pipeline list (50 rows, an operator who
// may take every action) as /pipelines does: the CPU the page's HTML costs per view.
func BenchmarkPipelineTable(b *testing.B) {
	l := benchPipelineList()
	b.ReportAllocs()
	var n countWriter
	cpu0 := processCPU()
	for b.Loop() {
		if err := PipelineTable(l).Render(context.Background(), &n); err != nil {
			b.Fatal(err)
		}
	}
	// ns/op is wall time, which a busy machine stretches; the process's CPU time per
	// render (garbage collection included) is what the page costs the server.
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(n)/float64(b.N), "bytes/op")
}

// processCPU is the CPU time (user + system) the process has used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchPipelineList is the benchmark's page: 50 rows of paused, running and failing
// pipelines, 5,000 in all.
func benchPipelineList() PipelineList {
	items := make([]catalog.Pipeline, 50)
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for i := range items {
		p := catalog.Pipeline{ID: int64(1000 + i), Name: fmt.Sprintf("pipeline-%06x-%d", i*7919, i), Status: catalog.DesiredPause,
			SourceID: int64(i), DestinationID: int64(i % 100), CreatedAt: at, UpdatedAt: at,
			Source:      catalog.EntityRef{Name: fmt.Sprintf("source-%05d", i)},
			Destination: catalog.EntityRef{Name: fmt.Sprintf("destination-%04d", i%100)},
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
	l := PipelineList{Page: catalog.Page[catalog.Pipeline]{Items: items, Total: 5000, Limit: 50},
		Row:   RowContext{CSRFToken: "dGhpcyBpcyBhIGNzcmYgdG9rZW4gb2YgdGhlIHJpZ2h0IGxlbmd0aCBmb3IgdGhlIGJlbmNobWFyayBvbmx5IQ", Access: allowAll, Next: "/pipelines"},
		State: ListState{BaseURL: "/pipelines"}}
	return l
}

type countWriter int

func (w *countWriter) Write(p []byte) (int, error) { *w += countWriter(len(p)); return len(p), nil }

var _ io.Writer = (*countWriter)(nil)
