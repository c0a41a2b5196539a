package partials

import (
	"testing"

	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/views/viewtest"
)

// BenchmarkPipelineTable renders the console's pipeline list (50 rows, an operator who
// may take every action) as /pipelines does: the CPU the page's HTML costs per view.
func BenchmarkPipelineTable(b *testing.B) {
	viewtest.BenchRender(b, PipelineTable(benchPipelineList()))
}

// benchPipelineList is the benchmark's page: 50 rows of paused, running and failing
// pipelines, 5,000 in all.
func benchPipelineList() PipelineList {
	return PipelineList{Page: catalog.Page[catalog.Pipeline]{Items: viewtest.BenchPipelines(), Total: 5000, Limit: 50},
		Row:   RowContext{CSRFToken: "dGhpcyBpcyBhIGNzcmYgdG9rZW4gb2YgdGhlIHJpZ2h0IGxlbmd0aCBmb3IgdGhlIGJlbmNobWFyayBvbmx5IQ", Access: allowAll, Next: "/pipelines"},
		State: ListState{BaseURL: "/pipelines"}}
}
