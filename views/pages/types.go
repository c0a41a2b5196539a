package pages

import (
	"strconv"

	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/views/layout"
	"github.com/rosetta-cdc/rosetta/views/partials"
)

// SourceDetail is what a source's page shows.
type SourceDetail struct {
	Source    catalog.Source
	Pipelines catalog.Page[catalog.Pipeline] // the pipelines reading it
	Checks    partials.SourceChecks          // "Test connection" results, when just run
	RecentWAL []catalog.WALSample            // the slot panel's recent samples, newest first
}

// DestinationDetail is what a destination's page shows.
type DestinationDetail struct {
	Destination catalog.Destination
	Pipelines   catalog.Page[catalog.Pipeline] // the pipelines loading into it
	Checks      partials.DestinationChecks     // the "Test connection" results, when just run
}

// Crumb is one step of a page's breadcrumb trail; the last one is the current page.
type Crumb struct {
	Label string
	URL   string
}

// newPipelineURL is the "new pipeline from this source" link, for those who may create one.
func newPipelineURL(meta layout.PageMeta, param string, id int64) string {
	if !meta.May("GET /pipelines/new") {
		return ""
	}
	return "/pipelines/new?" + param + "=" + strconv.FormatInt(id, 10)
}
