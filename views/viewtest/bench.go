package viewtest

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/a-h/templ"

	"github.com/rosetta-cdc/rosetta/internal/catalog"
)

// BenchRender renders c b.N times into a counter, reporting besides allocations the
// process's CPU time per render (cpu-ns/op: wall time, which a busy machine stretches,
// says more about the machine; garbage collection included) and the output's size.
func BenchRender(b *testing.B, c templ.Component) {
	b.Helper()
	b.ReportAllocs()
	var n countWriter
	cpu0 := ProcessCPU()
	for b.Loop() {
		if err := c.Render(context.Background(), &n); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(ProcessCPU()-cpu0)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(n)/float64(b.N), "bytes/op")
}

// ProcessCPU is the CPU time (user + system) the process has used so far.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type countWriter int

func (w *countWriter) Write(p []byte) (int, error) { *w += countWriter(len(p)); return len(p), nil }

// BenchPipelines is the render benchmarks' page of pipelines: 50 rows, paused, running
// (every tenth) and failing (every twentieth, with an error).
func BenchPipelines() []catalog.Pipeline {
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
	return items
}
