package partials

import (
	"context"
	"html"
	"io"
	"strconv"
	"strings"

	"github.com/a-h/templ"

	"github.com/rosetta-cdc/rosetta/internal/catalog"
)

// A list page renders the actions of 50 pipelines, and templ's per-expression work
// (formatting, escaping and copying every value, a context per component) made that
// cell most of the page's CPU. Yet the cell of one row differs from another's in the
// same state only by the pipeline's id and name. So a list renders
// pipelineActionButtons once per state (desired × runtime status) for a stand-in
// pipeline, cuts the HTML where the stand-in's id and name appear, and stamps each row
// by writing the pieces with the row's own id and escaped name in between. The markup is
// still exactly what pipelineActionButtons renders (TestStampedActionsMatchRendered
// compares them byte for byte); nothing is written by hand here.
//
// pipelineActionButtons may therefore depend on a pipeline's ID, Name, Status and
// Metadata.Status only (and on the RowContext, which is the same for every row).

// The stand-in: an id and a name no page holds (the name escapes to itself, as
// html.EscapeString leaves private-use characters alone).
const (
	stampID   int64 = 9182736450918273645
	stampName       = "\uE000stamp\uE001"
)

var stampIDText = strconv.FormatInt(stampID, 10)

// hole kinds in a stamp
const (
	holeID   = 'i'
	holeName = 'n'
)

// actionStamp is the actions cell of one pipeline state, cut at the stand-in's id and
// name: parts[0], holes[0], parts[1], … parts[len(holes)].
type actionStamp struct {
	parts []string
	holes []byte
}

type stampKey struct{ desired, runtime string }

// actionStamps are a list's stamps by state (RowContext.forList), filled as the rows
// need them. usable is false when the page's shared inputs contain the stand-in's id or
// name (a "next" URL can hold any text): the rows are then rendered one by one.
type actionStamps struct {
	usable bool
	byKey  map[stampKey]*actionStamp
}

func newActionStamps(rc RowContext) *actionStamps {
	shared := rc.hiddenFields().HTML()
	return &actionStamps{
		usable: !strings.Contains(shared, stampIDText) && !strings.Contains(shared, stampName),
		byKey:  map[stampKey]*actionStamp{},
	}
}

// rowActions is the actions cell content of p: stamped in a list, rendered otherwise.
// id is p.ID in decimal, rowID PipelineRowID(p.ID).
func (rc RowContext) rowActions(p catalog.Pipeline, id, rowID string) templ.Component {
	if rc.stamps == nil || !rc.stamps.usable {
		return pipelineActionButtons(p, "", rowID, rc)
	}
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		st, err := rc.stamp(ctx, p)
		if err != nil {
			return err
		}
		name := html.EscapeString(p.Name)
		for i, h := range st.holes {
			if _, err := io.WriteString(w, st.parts[i]); err != nil {
				return err
			}
			v := id
			if h == holeName {
				v = name
			}
			if _, err := io.WriteString(w, v); err != nil {
				return err
			}
		}
		_, err = io.WriteString(w, st.parts[len(st.holes)])
		return err
	})
}

// stamp returns the stamp of p's state, rendering it on first use.
func (rc RowContext) stamp(ctx context.Context, p catalog.Pipeline) (*actionStamp, error) {
	key := stampKey{p.Status, p.Metadata.Status}
	if st, ok := rc.stamps.byKey[key]; ok {
		return st, nil
	}
	standIn := catalog.Pipeline{ID: stampID, Name: stampName, Status: p.Status,
		Metadata: catalog.PipelineMetadata{Status: p.Metadata.Status}}
	var b strings.Builder
	if err := pipelineActionButtons(standIn, "", PipelineRowID(stampID), rc).Render(ctx, &b); err != nil {
		return nil, err
	}
	st := cutStamp(b.String())
	rc.stamps.byKey[key] = st
	return st, nil
}

// cutStamp cuts s at every occurrence of the stand-in's id and name.
func cutStamp(s string) *actionStamp {
	st := &actionStamp{}
	for {
		i, j := strings.Index(s, stampIDText), strings.Index(s, stampName)
		switch {
		case i < 0 && j < 0:
			st.parts = append(st.parts, s)
			return st
		case j < 0 || (i >= 0 && i < j):
			st.parts, st.holes = append(st.parts, s[:i]), append(st.holes, holeID)
			s = s[i+len(stampIDText):]
		default:
			st.parts, st.holes = append(st.parts, s[:j]), append(st.holes, holeName)
			s = s[j+len(stampName):]
		}
	}
}
