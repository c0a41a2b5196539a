// Package viewtest renders templ components for the view tests, which assert on the
// HTML with goquery as a browser would see it (elements and attributes, not text).
package viewtest

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
)

// Render renders c and parses the result, failing the test on either error. It
// returns the document and the raw HTML (for messages and the odd substring check).
func Render(t testing.TB, c templ.Component) (*goquery.Document, string) {
	t.Helper()
	var b strings.Builder
	if err := c.Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return doc, b.String()
}

// Doc is Render without the raw HTML.
func Doc(t testing.TB, c templ.Component) *goquery.Document {
	t.Helper()
	doc, _ := Render(t, c)
	return doc
}

// WithChildren is c rendered around children ({ children... } in templ), for
// components that wrap a caller's content.
func WithChildren(c, children templ.Component) templ.Component {
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		return c.Render(templ.WithChildren(ctx, children), w)
	})
}
