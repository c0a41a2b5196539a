package layout

import (
	"context"
	"io"
	"slices"

	"github.com/a-h/templ"

	"github.com/rosetta-cdc/rosetta/views/components"
)

// Base is the full page: head with assets and htmx config, header with navigation and
// user menu (only when p.User is set), the flash region, the page content (children)
// in main#main, and the footer.
//
// Every page is that shell around its content, the same on every view but for the
// title, the CSRF token, the user's email and role; so it is stamped
// (components.Stamp): rendered by base once per section, sign-in state and menu for
// stand-ins, and written from the pieces with the view's values and the page's content
// in between (TestStampedBaseMatchesRendered compares them byte for byte). A page with
// flash messages or its own styles or scripts, rarer, renders through base as before.
func Base(p PageMeta) templ.Component {
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		if len(p.Flash) > 0 || len(p.Styles) > 0 || len(p.Scripts) > 0 || !knownNav(p.Nav) {
			return base(p).Render(ctx, w)
		}
		key := baseKey{nav: p.Nav, titled: p.Title != "", csrf: p.CSRFToken != "", user: p.User != nil}
		key.users = key.user && p.May("GET /users")
		st, err := baseStamps.Get(ctx, key, baseMarkers, templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
			s := PageMeta{Nav: key.nav, Access: func(route string) bool { return key.users && route == "GET /users" }}
			if key.titled {
				s.Title = stampTitle
			}
			if key.csrf {
				s.CSRFToken = stampCSRF
			}
			if key.user {
				s.User = &UserInfo{Email: stampEmail, Role: stampRole}
			}
			return base(s).Render(templ.WithChildren(ctx, templ.Raw(stampChildren)), w)
		}))
		if err != nil {
			return err
		}
		// as base does: its content renders without children, in templ's render state
		ctx = templ.InitializeContext(ctx)
		children := templ.GetChildren(ctx)
		ctx = templ.ClearChildren(ctx)
		return st.WriteWith(w, func(w io.Writer, h byte) error {
			var v string
			switch h {
			case holeTitle:
				v = components.Escape(p.Title)
			case holeCSRF:
				v = components.Escape(p.CSRFToken)
			case holeEmail:
				v = components.Escape(p.User.Email)
			case holeRole:
				v = components.Escape(p.User.Role)
			case holeChildren:
				return children.Render(ctx, w)
			}
			_, err := io.WriteString(w, v)
			return err
		})
	})
}

var baseStamps components.StampSet // baseKey → *components.Stamp

// baseKey is what the shell's markup depends on besides its holes.
type baseKey struct {
	nav                string
	titled, csrf, user bool
	users              bool // the user menu links to /users
}

// The stand-ins, and the holes they mark.
const (
	stampTitle    = "\uE000title\uE001"
	stampCSRF     = "\uE000csrf\uE001"
	stampEmail    = "\uE000email\uE001"
	stampRole     = "\uE000role\uE001"
	stampChildren = "\uE000children\uE001"
	holeTitle     = 't'
	holeCSRF      = 'c'
	holeEmail     = 'e'
	holeRole      = 'r'
	holeChildren  = 'C'
)

var baseMarkers = []components.StampMarker{
	components.Mark(stampTitle, holeTitle), components.Mark(stampCSRF, holeCSRF), components.Mark(stampEmail, holeEmail),
	components.Mark(stampRole, holeRole), components.Mark(stampChildren, holeChildren),
}

// knownNav reports whether nav is a section the header knows (or none): the shell's
// stamps are kept per section, so never for a value from elsewhere.
func knownNav(nav string) bool {
	if nav == "" || nav == NavTokens || nav == NavUsers {
		return true
	}
	return slices.ContainsFunc(navItems, func(i navItem) bool { return i.key == nav })
}
