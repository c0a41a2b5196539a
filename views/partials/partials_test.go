package partials

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/views/layout"
)

func TestBytes(t *testing.T) {
	for n, want := range map[int64]string{
		0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 1 << 20: "1.0 MiB",
		1503238553: "1.4 GiB", 150 << 30: "150 GiB", 5 << 40: "5.0 TiB", -2048: "-2.0 KiB",
	} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
	if BytesPtr(nil) != "—" {
		t.Error("BytesPtr(nil)")
	}
}

func TestRelative(t *testing.T) {
	base := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	now = func() time.Time { return base }
	defer func() { now = time.Now }()
	for d, want := range map[time.Duration]string{
		10 * time.Second: "just now", time.Minute: "1 minute ago", 5 * time.Minute: "5 minutes ago",
		3 * time.Hour: "3 hours ago", 50 * time.Hour: "2 days ago", -2 * time.Hour: "in 2 hours",
		90 * 24 * time.Hour: "2026-01-31 12:00:00 UTC",
	} {
		if got := Relative(base.Add(-d)); got != want {
			t.Errorf("Relative(now-%v) = %q, want %q", d, got, want)
		}
	}
	if Machine(base.In(time.FixedZone("x", 3600))) != "2026-05-01T12:00:00Z" {
		t.Error("Machine is not UTC RFC 3339")
	}
}

func TestPipelineActions(t *testing.T) {
	for _, tc := range []struct{ desired, runtime, want string }{
		{catalog.DesiredStart, catalog.RuntimeRunning, "pause,refresh"},
		{catalog.DesiredRefresh, catalog.RuntimeRunning, "pause"},
		{catalog.DesiredPause, catalog.RuntimePaused, "start,refresh"},
		{catalog.DesiredStart, catalog.RuntimeError, "start,pause"},
		{catalog.DesiredRefresh, catalog.RuntimeError, "start,pause"},
	} {
		p := catalog.Pipeline{Status: tc.desired, Metadata: catalog.PipelineMetadata{Status: tc.runtime}}
		if got := strings.Join(PipelineActions(p), ","); got != tc.want {
			t.Errorf("%s/%s: %s, want %s", tc.desired, tc.runtime, got, tc.want)
		}
	}
}

func TestFieldMessage(t *testing.T) {
	for in, want := range map[string]string{
		"is required":                 "Port is required.",
		"must be between 1 and 65535": "Port must be between 1 and 65535.",
		"no source has id 4":          "No source has id 4.",
		"“x” is taken.":               "“x” is taken.",
		"":                            "",
	} {
		if got := fieldMessage("Port", in); got != want {
			t.Errorf("fieldMessage(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCanOperate(t *testing.T) {
	if !CanOperate(layout.PageMeta{}) || !CanOperate(layout.PageMeta{User: &layout.UserInfo{Role: "operator"}}) {
		t.Error("operators (and consoles without access control) may operate")
	}
	if CanOperate(layout.PageMeta{User: &layout.UserInfo{Role: "viewer"}}) {
		t.Error("a viewer may operate")
	}
}

// A viewer's pipeline row carries no action forms (and no actions column).
func TestPipelineRowForViewer(t *testing.T) {
	p := catalog.Pipeline{ID: 3, Name: "x", Status: catalog.DesiredPause, Metadata: catalog.PipelineMetadata{Status: catalog.RuntimePaused}}
	for _, op := range []bool{true, false} {
		var b strings.Builder
		l := PipelineList{Page: catalog.Page[catalog.Pipeline]{Items: []catalog.Pipeline{p}, Total: 1, Limit: 50},
			Row: RowContext{CanOperate: op}}
		if err := PipelineTable(l).Render(context.Background(), &b); err != nil {
			t.Fatal(err)
		}
		doc, _ := goquery.NewDocumentFromReader(strings.NewReader(b.String()))
		if got := doc.Find(`form[method=post]`).Length() > 0; got != op {
			t.Errorf("operate=%v: action forms present = %v", op, got)
		}
	}
}
