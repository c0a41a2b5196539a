package partials

import (
	"maps"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"

	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/views/viewtest"
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

// Time's fast formatting says what Machine and Absolute say, for any time and zone.
func TestTimeTexts(t *testing.T) {
	for _, tm := range []time.Time{
		time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC),
		time.Date(2026, 12, 31, 23, 59, 59, 999999999, time.FixedZone("x", -3600*5)),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-5, 3, 4, 5, 6, 7, 0, time.UTC),
		time.Unix(1700000000, 123).In(time.FixedZone("y", 3600*9+1800)),
	} {
		m, a := timeTexts(tm)
		if m != Machine(tm) || a != Absolute(tm) {
			t.Errorf("%v: timeTexts = %q, %q; want %q, %q", tm, m, a, Machine(tm), Absolute(tm))
		}
	}
}

// Every button the console shows for a pipeline, in any state, is an action the
// catalog accepts and would carry out (not a no-op, not refused), and every such action
// is shown: the row of the list and the status panel of the pipeline's page alike. The
// delete region offers deleting exactly when the catalog allows it.
func TestPipelineButtonsAreCatalogActions(t *testing.T) {
	for _, desired := range catalog.DesiredStatuses {
		for _, runtime := range catalog.RuntimeStatuses {
			p := catalog.Pipeline{ID: 7, Name: "orders", Status: desired, Metadata: catalog.PipelineMetadata{Status: runtime}}
			rc := RowContext{CSRFToken: "tok", Access: allowAll, Next: "/pipelines"}
			for name, c := range map[string]templ.Component{
				"row":   PipelineRow(p, rc),
				"panel": PipelineStatusPanel(PipelineStatus{Pipeline: p, Row: rc}),
			} {
				doc := viewtest.Doc(t, c)
				var shown []catalog.Action
				doc.Find(`[data-testid="pipeline-actions"] form`).Each(func(_ int, f *goquery.Selection) {
					btn := f.Find(`button[type=submit]`)
					a, err := catalog.ParseAction(btn.AttrOr("data-action", ""))
					if err != nil {
						t.Errorf("%s/%s %s: button %q: %v", desired, runtime, name, btn.Text(), err)
						return
					}
					if o, err := catalog.Decide(a, desired, runtime); o != catalog.Changes {
						t.Errorf("%s/%s %s: offers %s, which the catalog answers with %v (%v)", desired, runtime, name, a, o, err)
					}
					if got, want := f.AttrOr("action", ""), "/pipelines/7/"+string(a); got != want || f.AttrOr("hx-post", "") != want {
						t.Errorf("%s/%s %s: %s posts to %q, want %q", desired, runtime, name, a, got, want)
					}
					shown = append(shown, a)
				})
				if want := catalog.AllowedActions(desired, runtime); !slices.Equal(shown, want) {
					t.Errorf("%s/%s %s: buttons %v, catalog allows %v", desired, runtime, name, shown, want)
				}
			}
			doc := viewtest.Doc(t, PipelineDelete(p, "tok", false))
			offered := doc.Find(`form[action="/pipelines/7/delete"]`).Length() == 1
			blocked := doc.Find(`[data-testid="delete-blocked"]`).Length() == 1
			if offered != p.CanDelete() || blocked == offered {
				t.Errorf("%s/%s: delete offered=%v blocked=%v, catalog allows=%v", desired, runtime, offered, blocked, p.CanDelete())
			}
		}
	}
	// the case the console used to get wrong: a failed start may be refreshed
	doc := viewtest.Doc(t, PipelineRow(catalog.Pipeline{ID: 7, Status: catalog.DesiredStart,
		Metadata: catalog.PipelineMetadata{Status: catalog.RuntimeError}}, RowContext{Access: allowAll}))
	if doc.Find(`button[data-action="refresh"]`).Length() != 1 {
		t.Error("a pipeline in ERROR offers no refresh")
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
		if got := FieldMessage("Port", in); got != want {
			t.Errorf("FieldMessage(%q) = %q, want %q", in, got, want)
		}
	}
}

func allowAll(string) bool { return true }

// A user may take only some actions: the row offers only those, and the actions column
// only when there is one.
func TestPipelineButtonsFollowAccess(t *testing.T) {
	p := catalog.Pipeline{ID: 3, Name: "x", Status: catalog.DesiredPause, Metadata: catalog.PipelineMetadata{Status: catalog.RuntimePaused}}
	var asked []string
	rc := RowContext{Access: func(route string) bool {
		asked = append(asked, route)
		return route == ActionRoute(catalog.ActionRefresh)
	}}
	doc := viewtest.Doc(t, PipelineRow(p, rc))
	if got := doc.Find(`button[data-action]`).Map(func(_ int, b *goquery.Selection) string { return b.AttrOr("data-action", "") }); !slices.Equal(got, []string{"refresh"}) {
		t.Errorf("buttons %v, want only refresh", got)
	}
	if !slices.Contains(asked, "POST /pipelines/:id/start") {
		t.Errorf("asked %v: not the start route as the permission table names it", asked)
	}
}

// A viewer's pipeline row carries no action forms (and no actions column).
func TestPipelineRowForViewer(t *testing.T) {
	p := catalog.Pipeline{ID: 3, Name: "x", Status: catalog.DesiredPause, Metadata: catalog.PipelineMetadata{Status: catalog.RuntimePaused}}
	for _, op := range []bool{true, false} {
		l := PipelineList{Page: catalog.Page[catalog.Pipeline]{Items: []catalog.Pipeline{p}, Total: 1, Limit: 50},
			Row: RowContext{Access: func(string) bool { return op }}}
		doc := viewtest.Doc(t, PipelineTable(l))
		if got := doc.Find(`form[method=post]`).Length() > 0; got != op {
			t.Errorf("operate=%v: action forms present = %v", op, got)
		}
	}
}

// Each list's sort select (what a phone, whose table hides its header row, sorts with)
// offers exactly the orders its sortable headers offer, and only keys the catalog
// accepts for that list.
func TestListSortSelectMatchesHeaders(t *testing.T) {
	st := ListState{DefaultSort: "name", BaseURL: "/x"}
	for _, tc := range []struct {
		name     string
		table    templ.Component
		accepted []string
	}{
		{"sources", SourceTable(SourceList{Page: catalog.Page[catalog.Source]{Items: []catalog.Source{{ID: 1, Name: "s"}}, Total: 1, Limit: 50}, State: st}, true),
			catalog.SourceSorts},
		{"destinations", DestinationTable(DestinationList{Page: catalog.Page[catalog.Destination]{Items: []catalog.Destination{{ID: 1, Name: "d"}}, Total: 1, Limit: 50}, State: st}, true),
			catalog.DestinationSorts},
		{"pipelines", PipelineTable(PipelineList{Page: catalog.Page[catalog.Pipeline]{Items: []catalog.Pipeline{{ID: 1, Name: "p"}}, Total: 1, Limit: 50}, State: st}),
			catalog.PipelineSorts},
	} {
		doc := viewtest.Doc(t, tc.table)
		// a header toggles between key and -key, except status (errors first only)
		fromHeaders := map[string]bool{}
		doc.Find(`thead a.sort`).Each(func(_ int, a *goquery.Selection) {
			u, err := url.Parse(a.AttrOr("href", ""))
			if err != nil {
				t.Fatal(err)
			}
			key := strings.TrimPrefix(u.Query().Get("sort"), "-")
			fromHeaders[key] = true
			if key != "status" {
				fromHeaders["-"+key] = true
			}
		})
		offered := map[string]bool{}
		doc.Find(`select[name="sort"] option`).Each(func(_ int, o *goquery.Selection) {
			v := o.AttrOr("value", "")
			if offered[v] {
				t.Errorf("%s: the sort select offers %q twice", tc.name, v)
			}
			offered[v] = true
			if !slices.Contains(tc.accepted, v) {
				t.Errorf("%s: the sort select offers %q, which the catalog does not accept", tc.name, v)
			}
		})
		if len(fromHeaders) == 0 || !maps.Equal(fromHeaders, offered) {
			t.Errorf("%s: the sort select offers %v, the headers %v", tc.name, slices.Sorted(maps.Keys(offered)), slices.Sorted(maps.Keys(fromHeaders)))
		}
		if got := doc.Find(`select[name="sort"] option[selected]`).AttrOr("value", ""); got != "name" {
			t.Errorf("%s: the default order %q is selected, want name", tc.name, got)
		}
	}

	// an order the list accepts but offers no header for is still shown (and kept)
	st.Sort = "-created_at"
	doc := viewtest.Doc(t, WALFleetTable(WALFleetList{Page: catalog.Page[catalog.WALFleetRow]{Items: []catalog.WALFleetRow{{SourceID: 1, Name: "s"}}, Total: 1, Limit: 50}, State: st}))
	if sel := doc.Find(`select[name="sort"] option[selected]`); sel.AttrOr("value", "") != "-created_at" || sel.Text() != "Newest first" {
		t.Errorf("/wal?sort=-created_at selects %q (%q)", sel.AttrOr("value", ""), sel.Text())
	}
}
