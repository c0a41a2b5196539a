package pages_test

import (
	"testing"

	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/views/layout"
	"github.com/rosetta-cdc/rosetta/views/pages"
	"github.com/rosetta-cdc/rosetta/views/partials"
	"github.com/rosetta-cdc/rosetta/views/viewtest"
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
	viewtest.BenchRender(b, pages.PipelinesPage(meta, l))
}

// benchPipelinesPage is the benchmark's page: the first 50 of 5,000 pipelines, paused,
// running and failing, for a signed-in operator.
func benchPipelinesPage() (layout.PageMeta, partials.PipelineList) {
	allow := func(string) bool { return true }
	meta := layout.PageMeta{Title: "Pipelines", Nav: layout.NavPipelines,
		CSRFToken: "dGhpcyBpcyBhIGNzcmYgdG9rZW4gb2YgdGhlIHJpZ2h0IGxlbmd0aCBmb3IgdGhlIGJlbmNobWFyayBvbmx5IQ",
		User:      &layout.UserInfo{Email: "operator@example.com", Role: "operator"}, Access: allow}
	l := partials.PipelineList{Page: catalog.Page[catalog.Pipeline]{Items: viewtest.BenchPipelines(), Total: 5000, Limit: 50},
		Row:   partials.RowContext{CSRFToken: meta.CSRFToken, Access: allow, Next: "/pipelines"},
		State: partials.ListState{BaseURL: "/pipelines", DefaultSort: "name"}}
	return meta, l
}
