package partials

import (
	"context"
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

// rowMarkers are what a row's stamp is cut at. The page's hidden inputs are a hole
// (stampFields), so a stamp is never cut inside them, whatever a "next" URL holds.
var rowMarkers = []components.StampMarker{
	components.Mark(strconv.FormatInt(stampSourceID, 10), holeSourceID), components.Mark(stampSourceName, holeSourceName),
	components.Mark(strconv.FormatInt(stampDestinationID, 10), holeDestinationID), components.Mark(stampDestinationName, holeDestinationName),
	components.Mark(stampLastError, holeLastError), components.Mark(stampCreated, holeCreated), components.Mark(stampFields, holeFields),
	components.Mark(stampIDText, holeID), components.Mark(stampName, holeName),
}

// listRows are the rows of a list: stamped (a list's rows are prepared, forList), or
// rendered when not in a list. A page's rows are put together in one buffer and written
// a few rows at a time: a row is some thirty pieces, and each written on its own (an
// interface call, a copy into templ's buffer) was a third of the stamped rows.
func (rc RowContext) listRows(items []catalog.Pipeline) templ.Component {
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		if !rc.prepared || rc.standIn {
			for _, p := range items {
				if err := PipelineRow(p, rc).Render(ctx, w); err != nil {
					return err
				}
			}
			return nil
		}
		buf := rowBuffers.Get().(*[]byte)
		defer rowBuffers.Put(buf)
		b := (*buf)[:0]
		for _, p := range items {
			var err error
			if b, err = rc.appendRow(ctx, w, b, p); err != nil {
				return err
			}
			// Written a few rows at a time: more than templ's 4 kB buffer holds, so
			// that buffer passes most of it on without copying it once more.
			if len(b) >= rowsWritten {
				if _, err := w.Write(b); err != nil {
					return err
				}
				b = b[:0]
			}
		}
		*buf = b
		_, err := w.Write(b)
		return err
	})
}

// rowsWritten is how much listRows puts together before writing it.
const rowsWritten = 8 << 10

// rowBuffers are listRows' buffers, kept between pages.
var rowBuffers = sync.Pool{New: func() any { b := make([]byte, 0, rowsWritten+4<<10); return &b }}

// appendRow appends p's stamped row to b, writing b and then the cell to w where a
// cell is rendered by its component.
func (rc RowContext) appendRow(ctx context.Context, w io.Writer, b []byte, p catalog.Pipeline) ([]byte, error) {
	st, err := rc.rowStamp(ctx, p)
	if err != nil {
		return b, err
	}
	for i, h := range st.Holes {
		b = append(b, st.Parts[i]...)
		switch h {
		case holeID:
			b = strconv.AppendInt(b, p.ID, 10)
		case holeName:
			b = appendEscaped(b, p.Name)
		case holeSourceID:
			b = strconv.AppendInt(b, p.SourceID, 10)
		case holeSourceName:
			b = appendEscaped(b, p.Source.Name)
		case holeDestinationID:
			b = strconv.AppendInt(b, p.DestinationID, 10)
		case holeDestinationName:
			b = appendEscaped(b, p.Destination.Name)
		case holeFields:
			b = append(b, rc.hiddenFields().HTML()...)
		case holeCreated:
			b = appendTime(b, p.CreatedAt, rc.now)
		default:
			if h == holeLastError && p.Metadata.LastError == nil { // most rows: the same dash
				b = append(b, noLastError...)
				continue
			}
			if _, err := w.Write(b); err != nil {
				return b, err
			}
			b = b[:0]
			if err := rc.cellOf(p, h).Render(ctx, w); err != nil {
				return b, err
			}
		}
	}
	return append(b, st.Parts[len(st.Holes)]...), nil
}

// appendEscaped appends s escaped as templ escapes it (components.Escape).
func appendEscaped(b []byte, s string) []byte {
	return append(b, components.Escape(s)...)
}

// rowStamps are the row stamps of every list, by what they depend on besides the
// pipeline: its state and the user's choice of actions (and focus). The page's hidden
// inputs are a hole, so a stamp holds nothing of one page or one session, and each is
// rendered once per process (at most 2^len(catalog.Actions) × 2 × 9 of them).
var rowStamps components.StampSet // rowStampKey → *components.Stamp

type rowStampKey struct {
	may              string
	focus            bool
	desired, runtime string
}

// rowStamp returns the row stamp of p's state for rc's user: from the page's own
// (pageStamps, no lookup of the process's map per row) once the page has used it.
func (rc RowContext) rowStamp(ctx context.Context, p catalog.Pipeline) (*components.Stamp, error) {
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
func (rc RowContext) keptRowStamp(ctx context.Context, p catalog.Pipeline) (*components.Stamp, error) {
	may := make([]byte, len(rc.may))
	for i, m := range rc.may {
		if m {
			may[i] = 1
		}
	}
	key := rowStampKey{may: string(may), focus: rc.Focus, desired: p.Status, runtime: p.Metadata.Status}
	return rowStamps.Get(ctx, key, rowMarkers, templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		standIn := catalog.Pipeline{ID: stampID, Name: stampName, Status: p.Status,
			SourceID: stampSourceID, Source: catalog.EntityRef{ID: stampSourceID, Name: stampSourceName},
			DestinationID: stampDestinationID, Destination: catalog.EntityRef{ID: stampDestinationID, Name: stampDestinationName},
			Metadata: catalog.PipelineMetadata{Status: p.Metadata.Status}}
		src := rc
		src.standIn = true
		fields, err := components.Prerender(ctx, templ.Raw(stampFields))
		if err != nil {
			return err
		}
		src.fields = fields
		return PipelineRow(standIn, src).Render(ctx, w)
	}))
}

// cell is a row's cell whose markup depends on more than a value (a last error may be
// folded, a time is relative to now): rendered by its component, or, in the stand-in's
// row, a marker where a stamped row renders it.
func (rc RowContext) cell(p catalog.Pipeline, hole byte) templ.Component {
	if rc.standIn {
		return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
			for _, m := range rowMarkers {
				if m.Hole == hole {
					_, err := io.WriteString(w, m.Text)
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

// noLastError is the last error cell of a pipeline without one, rendered once.
var noLastError = func() string {
	var b strings.Builder
	if err := pipelineLastError(catalog.Pipeline{}).Render(context.Background(), &b); err != nil {
		panic(err)
	}
	return b.String()
}()

// timeStamp is timeTag cut at its three texts, for appendTime.
var timeStamp = func() *components.Stamp {
	var b strings.Builder
	if err := timeTag(stampTimeMachine, stampTimeAbs, stampTimeRel).Render(context.Background(), &b); err != nil {
		panic(err)
	}
	return components.CutStamp(b.String(), timeMarkers)
}()

const (
	stampTimeMachine = "\uE000machine\uE001"
	stampTimeAbs     = "\uE000absolute\uE001"
	stampTimeRel     = "\uE000relative\uE001"
)

var timeMarkers = []components.StampMarker{components.Mark(stampTimeMachine, 'm'), components.Mark(stampTimeAbs, 'a'), components.Mark(stampTimeRel, 'r')}

// appendTime appends what Time(t) renders, from timeStamp: a row's creation time is the
// one value every row shows through a component, and templ's attribute handling was a
// fifth of a stamped row's cost.
//
// at is the clock's reading: a list reads it once per page, where Time reads it per row.
func appendTime(b []byte, t, at time.Time) []byte {
	machine, abs := timeTexts(t)
	rel := relativeAt(t, abs, at)
	for i, h := range timeStamp.Holes {
		b = append(b, timeStamp.Parts[i]...)
		v := machine
		switch h {
		case 'a':
			v = abs
		case 'r':
			v = rel
		}
		// appended as they are: a time is spelled in digits, ASCII letters, spaces and
		// "-:+", nothing templ's escaping changes (TestAppendTimeMatchesTime)
		b = append(b, v...)
	}
	return append(b, timeStamp.Parts[len(timeStamp.Holes)]...)
}
