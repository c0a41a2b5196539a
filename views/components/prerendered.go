package components

import (
	"context"
	"io"
	"strings"

	"github.com/a-h/templ"
)

// Prerendered is a component's markup rendered once and written as it is wherever it
// repeats. Lists repeat a few pieces on every row (the same hidden inputs in every
// action form, the same few status badges), and templ works each one out again every
// time (formatting, escaping and copying each value, a context per component): most of
// a 50-row page's CPU. The markup still comes from the component, so it cannot drift.
type Prerendered struct{ html string }

// Prerender renders c once. ctx is the page's (templ keeps per-render state in it).
func Prerender(ctx context.Context, c templ.Component) (*Prerendered, error) {
	var b strings.Builder
	if err := c.Render(ctx, &b); err != nil {
		return nil, err
	}
	return &Prerendered{html: b.String()}, nil
}

// mustPrerender is Prerender at package initialisation, of components that cannot fail.
func mustPrerender(c templ.Component) *Prerendered {
	p, err := Prerender(context.Background(), c)
	if err != nil {
		panic(err)
	}
	return p
}

// HTML is the markup.
func (p *Prerendered) HTML() string { return p.html }

// Render writes the markup (templ.Component). A pointer, so that using it as a component
// allocates nothing.
func (p *Prerendered) Render(_ context.Context, w io.Writer) error {
	_, err := io.WriteString(w, p.html)
	return err
}

// NewHiddenFields prerenders the hidden inputs of a POST form (HiddenInputs), for a
// list that puts the same ones into every row's forms.
func NewHiddenFields(csrf, next string) *Prerendered {
	return mustPrerender(HiddenInputs(csrf, next))
}

// statusBadges are the badges of the statuses StatusBadge knows, rendered once.
var statusBadges = func() map[string]*Prerendered {
	m := map[string]*Prerendered{}
	for _, s := range []string{"RUNNING", "PAUSED", "ERROR", "START", "PAUSE", "REFRESH"} {
		m[s] = mustPrerender(statusBadge(s))
	}
	return m
}()
