package layout

import (
	"context"
	"io"

	"github.com/a-h/templ"
)

// Page is Base with body as its children, for handlers that hold the body as a value
// (the same component an htmx request gets alone).
func Page(p PageMeta, body templ.Component) templ.Component {
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		return Base(p).Render(templ.WithChildren(ctx, body), w)
	})
}
