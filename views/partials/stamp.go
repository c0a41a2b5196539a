package partials

import (
	"context"
	"html"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/a-h/templ"

	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/views/components"
)

// A list page renders 50 pipeline rows, and templ's per-expression work (formatting,
// escaping and copying every value, a context per component) made them most of the
// page's CPU. Yet a row differs from another row in the same state only by the
// pipeline's id, name, source, destination, last error and creation time. So a list
// renders PipelineRow once per state (desired × runtime status) for a stand-in
// pipeline, cuts the HTML where the stand-in's values appear, and stamps each row by
// writing the pieces with the row's own values in between: ids as decimals, names
// escaped as templ escapes them, and the two cells whose shape depends on the value (the
// last error, the creation time) rendered by their own components. The page's hidden
// inputs (CSRF token, next) go in a hole too, so a stamp holds nothing of one page or one
// session and is kept for the process (rowStamps). The markup is still exactly what
// PipelineRow renders (TestStampedRowsMatchRendered compares them byte for byte);
// nothing is written by hand here.
//
// PipelineRow (with pipelineActionButtons) may therefore depend on a pipeline's ID,
// Name, SourceID, Source.Name, DestinationID, Destination.Name, Status and
// Metadata.Status, and on anything else only through RowContext.cell; and on the
// RowContext only through its hidden inputs, the actions the user may take and Focus.
// A row rendered on its own (an action's answer, the stand-in's row) is rendered whole.

// The stand-in: ids and names no page holds (the names escape to themselves, as
// html.EscapeString leaves private-use characters alone; no id's decimals contain
// another's).
const (
	stampID              int64 = 9182736450918273645
	stampName                  = "\uE000stamp\uE001"
	stampSourceID        int64 = 8273645091827364501
	stampSourceName            = "\uE000source\uE001"
	stampDestinationID   int64 = 7364509182736450182
	stampDestinationName       = "\uE000destination\uE001"
	// Where the cells rendered by their own components go (RowContext.cell).
	stampLastError = "\uE000last-error\uE001"
	stampCreated   = "\uE000created\uE001"
	// Where a row's action forms put the page's hidden inputs (CSRF token, next).
	stampFields = "\uE000fields\uE001"
)

var stampIDText = strconv.FormatInt(stampID, 10)

// hole kinds in a stamp
const (
	holeID              = 'i'
	holeName            = 'n'
	holeSourceID        = 's'
	holeSourceName      = 'S'
	holeDestinationID   = 'd'
	holeDestinationName = 'D'
	holeLastError       = 'e'
	holeCreated         = 'c'
	holeFields          = 'f'
)

type stampMarker struct {
	text string
	hole byte
}

// rowMarkers are what a row's stamp is cut at. The page's hidden inputs are a hole
// (stampFields), so a stamp is never cut inside them, whatever a "next" URL holds.
var rowMarkers = []stampMarker{
	{strconv.FormatInt(stampSourceID, 10), holeSourceID}, {stampSourceName, holeSourceName},
	{strconv.FormatInt(stampDestinationID, 10), holeDestinationID}, {stampDestinationName, holeDestinationName},
	{stampLastError, holeLastError}, {stampCreated, holeCreated}, {stampFields, holeFields},
	{stampIDText, holeID}, {stampName, holeName},
}

// stamp is markup cut at the stand-in's values: parts[0], holes[0], parts[1], …
// parts[len(holes)].
type stamp struct {
	parts []string
	holes []byte
}

// listRow is p's row in a list: stamped (a list's rows are prepared, forList), or
// rendered when not in a list.
func (rc RowContext) listRow(p catalog.Pipeline) templ.Component {
	if !rc.prepared || rc.standIn {
		return PipelineRow(p, rc)
	}
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		st, err := rc.rowStamp(ctx, p)
		if err != nil {
			return err
		}
		id := strconv.FormatInt(p.ID, 10)
		name := escape(p.Name)
		for i, h := range st.holes {
			if _, err := io.WriteString(w, st.parts[i]); err != nil {
				return err
			}
			var v string
			switch h {
			case holeID:
				v = id
			case holeName:
				v = name
			case holeSourceID:
				v = strconv.FormatInt(p.SourceID, 10)
			case holeSourceName:
				v = escape(p.Source.Name)
			case holeDestinationID:
				v = strconv.FormatInt(p.DestinationID, 10)
			case holeDestinationName:
				v = escape(p.Destination.Name)
			case holeFields:
				v = rc.hiddenFields().HTML()
			case holeCreated:
				if err := writeTime(w, p.CreatedAt, rc.now); err != nil {
					return err
				}
				continue
			case holeLastError:
				if p.Metadata.LastError == nil { // most rows: the same dash
					v = noLastError
					break
				}
				if err := rc.cellOf(p, h).Render(ctx, w); err != nil {
					return err
				}
				continue
			default:
				if err := rc.cellOf(p, h).Render(ctx, w); err != nil {
					return err
				}
				continue
			}
			if _, err := io.WriteString(w, v); err != nil {
				return err
			}
		}
		_, err = io.WriteString(w, st.parts[len(st.holes)])
		return err
	})
}

// rowStamps are the row stamps of every list, by what they depend on besides the
// pipeline: its state and the user's choice of actions (and focus). The page's hidden
// inputs are a hole, so a stamp holds nothing of one page or one session, and each is
// rendered once per process (at most 2^len(catalog.Actions) × 2 × 9 of them).
var rowStamps sync.Map // rowStampKey → *stamp

type rowStampKey struct {
	may              string
	focus            bool
	desired, runtime string
}

// rowStamp returns the row stamp of p's state for rc's user: from the page's own
// (pageStamps, no lookup of the process's map per row) once the page has used it.
func (rc RowContext) rowStamp(ctx context.Context, p catalog.Pipeline) (*stamp, error) {
	d, r := slices.Index(catalog.DesiredStatuses, p.Status), slices.Index(catalog.RuntimeStatuses, p.Metadata.Status)
	if rc.stamps == nil || d < 0 || r < 0 {
		return rc.keptRowStamp(ctx, p)
	}
	i := d*len(catalog.RuntimeStatuses) + r
	if st := rc.stamps[i]; st != nil {
		return st, nil
	}
	st, err := rc.keptRowStamp(ctx, p)
	if err == nil {
		rc.stamps[i] = st
	}
	return st, err
}

// keptRowStamp is rowStamp from the process's stamps (rendered the first time).
func (rc RowContext) keptRowStamp(ctx context.Context, p catalog.Pipeline) (*stamp, error) {
	may := make([]byte, len(rc.may))
	for i, m := range rc.may {
		if m {
			may[i] = 1
		}
	}
	key := rowStampKey{may: string(may), focus: rc.Focus, desired: p.Status, runtime: p.Metadata.Status}
	if st, ok := rowStamps.Load(key); ok {
		return st.(*stamp), nil
	}
	standIn := catalog.Pipeline{ID: stampID, Name: stampName, Status: p.Status,
		SourceID: stampSourceID, Source: catalog.EntityRef{ID: stampSourceID, Name: stampSourceName},
		DestinationID: stampDestinationID, Destination: catalog.EntityRef{ID: stampDestinationID, Name: stampDestinationName},
		Metadata: catalog.PipelineMetadata{Status: p.Metadata.Status}}
	src := rc
	src.standIn = true
	fields, err := components.Prerender(ctx, templ.Raw(stampFields))
	if err != nil {
		return nil, err
	}
	src.fields = fields
	var b strings.Builder
	if err := PipelineRow(standIn, src).Render(ctx, &b); err != nil {
		return nil, err
	}
	st := cutStamp(b.String(), rowMarkers)
	rowStamps.Store(key, st)
	return st, nil
}

// cell is a row's cell whose markup depends on more than a value (a last error may be
// folded, a time is relative to now): rendered by its component, or, in the stand-in's
// row, a marker where a stamped row renders it.
func (rc RowContext) cell(p catalog.Pipeline, hole byte) templ.Component {
	if rc.standIn {
		return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
			for _, m := range rowMarkers {
				if m.hole == hole {
					_, err := io.WriteString(w, m.text)
					return err
				}
			}
			return nil
		})
	}
	return rc.cellOf(p, hole)
}

func (rc RowContext) cellOf(p catalog.Pipeline, hole byte) templ.Component {
	if hole == holeLastError {
		return pipelineLastError(p)
	}
	return Time(p.CreatedAt)
}

// cutStamp cuts s at every occurrence of the markers.
func cutStamp(s string, markers []stampMarker) *stamp {
	st := &stamp{}
	for {
		at, m := -1, stampMarker{}
		for _, k := range markers {
			if i := strings.Index(s, k.text); i >= 0 && (at < 0 || i < at) {
				at, m = i, k
			}
		}
		if at < 0 {
			st.parts = append(st.parts, s)
			return st
		}
		st.parts, st.holes = append(st.parts, s[:at]), append(st.holes, m.hole)
		s = s[at+len(m.text):]
	}
}

// noLastError is the last error cell of a pipeline without one, rendered once.
var noLastError = func() string {
	var b strings.Builder
	if err := pipelineLastError(catalog.Pipeline{}).Render(context.Background(), &b); err != nil {
		panic(err)
	}
	return b.String()
}()

// timeStamp is timeTag cut at its three texts, for writeTime.
var timeStamp = func() *stamp {
	var b strings.Builder
	if err := timeTag(stampTimeMachine, stampTimeAbs, stampTimeRel).Render(context.Background(), &b); err != nil {
		panic(err)
	}
	return cutStamp(b.String(), timeMarkers)
}()

const (
	stampTimeMachine = "\uE000machine\uE001"
	stampTimeAbs     = "\uE000absolute\uE001"
	stampTimeRel     = "\uE000relative\uE001"
)

var timeMarkers = []stampMarker{{stampTimeMachine, 'm'}, {stampTimeAbs, 'a'}, {stampTimeRel, 'r'}}

// escape is html.EscapeString, as templ escapes every text and attribute value, but
// returns at once a text with nothing to escape (most names, every time): the
// replacer's own scan was a tenth of a stamped page.
func escape(s string) string {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '<', '>', '&', '\'', '"':
			return html.EscapeString(s)
		}
	}
	return s
}

// writeTime writes what Time(t) renders, from timeStamp: a row's creation time is the
// one value every row shows through a component, and templ's attribute handling was a
// fifth of a stamped row's cost.
//
// at is the clock's reading: a list reads it once per page, where Time reads it per row.
func writeTime(w io.Writer, t, at time.Time) error {
	machine, abs := timeTexts(t)
	rel := relativeAt(t, abs, at)
	for i, h := range timeStamp.holes {
		if _, err := io.WriteString(w, timeStamp.parts[i]); err != nil {
			return err
		}
		v := machine
		switch h {
		case 'a':
			v = abs
		case 'r':
			v = rel
		}
		if _, err := io.WriteString(w, escape(v)); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, timeStamp.parts[len(timeStamp.holes)])
	return err
}
