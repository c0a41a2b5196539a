package components

import (
	"context"
	"html"
	"io"
	"strings"
	"sync"

	"github.com/a-h/templ"
)

// A Stamp is markup that repeats with a few values changed: a list's row for each
// pipeline, a page's search form or shell for each view. templ's per-expression work
// (formatting, escaping and copying every constant again, attribute maps built and
// sorted, a context per component) made such markup most of a page's CPU. So it is
// rendered once through its own component for stand-in values (texts no page holds,
// private-use characters that escape to themselves), cut where the stand-ins appear,
// and written from the pieces with each view's values, escaped as templ escapes them.
// The markup still comes from the component: each use is tested byte for byte against
// the component's own render.
type Stamp struct {
	// Parts[0], Holes[0], Parts[1], … Parts[len(Holes)].
	Parts []string
	Holes []byte
}

// StampMarker is a stand-in's text and the hole it marks.
type StampMarker struct {
	Text string
	Hole byte
}

// CutStamp cuts s at every occurrence of the markers.
func CutStamp(s string, markers []StampMarker) *Stamp {
	st := &Stamp{}
	for {
		at, m := -1, StampMarker{}
		for _, k := range markers {
			if i := strings.Index(s, k.Text); i >= 0 && (at < 0 || i < at) {
				at, m = i, k
			}
		}
		if at < 0 {
			st.Parts = append(st.Parts, s)
			return st
		}
		st.Parts, st.Holes = append(st.Parts, s[:at]), append(st.Holes, m.Hole)
		s = s[at+len(m.Text):]
	}
}

// Write writes the stamp with fill(hole) in each hole (already escaped).
func (st *Stamp) Write(w io.Writer, fill func(hole byte) string) error {
	return st.WriteWith(w, func(w io.Writer, h byte) error {
		_, err := io.WriteString(w, fill(h))
		return err
	})
}

// WriteWith writes the stamp, fill writing each hole itself (a hole that is a whole
// component, rendered in place).
func (st *Stamp) WriteWith(w io.Writer, fill func(w io.Writer, hole byte) error) error {
	for i, h := range st.Holes {
		if _, err := io.WriteString(w, st.Parts[i]); err != nil {
			return err
		}
		if err := fill(w, h); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, st.Parts[len(st.Holes)])
	return err
}

// StampSet keeps stamps for the process, by what their markup depends on besides the
// holes' values. A key must come from a bounded set (states, choices the page offers),
// never from what a request says.
type StampSet struct{ m sync.Map }

// Get returns key's stamp, rendering standIn (the markup with each hole's marker) and
// cutting it at markers the first time.
func (s *StampSet) Get(ctx context.Context, key any, markers []StampMarker, standIn templ.Component) (*Stamp, error) {
	if st, ok := s.m.Load(key); ok {
		return st.(*Stamp), nil
	}
	var b strings.Builder
	if err := standIn.Render(ctx, &b); err != nil {
		return nil, err
	}
	st := CutStamp(b.String(), markers)
	s.m.Store(key, st)
	return st, nil
}

// Has reports whether key's stamp is kept (for tests).
func (s *StampSet) Has(key any) bool { _, ok := s.m.Load(key); return ok }

// Forget drops key's stamp (for tests).
func (s *StampSet) Forget(key any) { s.m.Delete(key) }

// Escape is html.EscapeString, as templ escapes every text and attribute value, but
// returns at once a text with nothing to escape (most names, every time): the
// replacer's own scan was a tenth of a stamped page.
func Escape(s string) string {
	for i := 0; i < len(s); i++ {
		if escaped[s[i]] {
			return html.EscapeString(s)
		}
	}
	return s
}

// escaped are the bytes html.EscapeString replaces.
var escaped = [256]bool{'<': true, '>': true, '&': true, '\'': true, '"': true}

// Mark is the marker of hole: text, a stand-in's value.
func Mark(text string, hole byte) StampMarker { return StampMarker{Text: text, Hole: hole} }
