package pages

import (
	"strconv"

	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/views/layout"
	"github.com/rosetta-cdc/rosetta/views/partials"
)

type link struct{ href, label string }

// causeEntityURL is the page of the source or destination a cause belongs to.
func causeEntityURL(e catalog.ErrorCause) string {
	if e.Kind == catalog.CauseDestination {
		return partials.DestinationURL(e.EntityID)
	}
	return partials.SourceURL(e.EntityID)
}

// causePipelinesURL lists the failing pipelines a cause holds (with those failing for
// another reason on the same source or destination, which the filter cannot tell apart).
func causePipelinesURL(e catalog.ErrorCause) string {
	key := "source_id"
	if e.Kind == catalog.CauseDestination {
		key = "destination_id"
	}
	return "/pipelines?runtime_status=ERROR&" + key + "=" + strconv.FormatInt(e.EntityID, 10)
}

// causeFix is where a cause is fixed: the edit form of what is misconfigured, or the
// source's probe state (its WAL panel, with "Probe now"). Who may not edit is sent to
// the page instead of a form the server would refuse them.
func causeFix(meta layout.PageMeta, e catalog.ErrorCause) link {
	page := causeEntityURL(e)
	switch e.Kind {
	case catalog.CauseProbe:
		return link{page + "#" + SourceWALPanelID(e.EntityID), "Probe state"}
	case catalog.CauseDestination:
		if meta.May("GET /destinations/:id/edit") {
			return link{page + "/edit", "Edit destination"}
		}
		return link{page, "See destination"}
	default:
		if meta.May("GET /sources/:id/edit") {
			return link{page + "/edit", "Edit source"}
		}
		return link{page, "See source"}
	}
}
