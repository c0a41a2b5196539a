package layout

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/a-h/templ"
)

// The page shell is stamped (stamp.go). Whatever the section, the title, the CSRF token,
// the user (none; markup, quotes and the stand-ins' own characters in the email and
// role), the menu (with and without Users), flash messages, a page's own assets and
// content, Base writes byte for byte what base renders.
func TestStampedBaseMatchesRendered(t *testing.T) {
	hostile := []string{"", "Pipelines", `<b>"x" & 'y'</b>`, stampTitle, stampCSRF + stampChildren, "naïve “quoted”"}
	navs := []string{"", NavDashboard, NavSources, NavDestinations, NavPipelines, NavWAL, NavAudit, NavAPIDocs, NavTokens, NavUsers, "bogus", `"><x>`}
	content := templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		_, err := io.WriteString(w, `<p data-testid="content">the page `+stampChildren+`</p>`)
		return err
	})
	n := 0
	for _, nav := range navs {
		for i, title := range hostile {
			for _, csrf := range []string{"", "tok+/=\"<", hostile[(i+2)%len(hostile)]} {
				for _, user := range []*UserInfo{nil, {Email: "ada@example.com", Role: "operator"}, {Email: hostile[(i+1)%len(hostile)], Role: title}} {
					for _, users := range []bool{false, true} {
						for _, extra := range []PageMeta{{}, {Flash: []Flash{{Kind: "success", Message: "Saved <x>."}}},
							{Styles: []string{"vendor/uPlot.min.css"}}, {Scripts: []string{"js/wal.js"}}} {
							p := PageMeta{Title: title, Nav: nav, CSRFToken: csrf, User: user,
								Access: func(r string) bool { return users }, Flash: extra.Flash, Styles: extra.Styles, Scripts: extra.Scripts}
							want := renderPage(t, base(p), content)
							if got := renderPage(t, Base(p), content); got != want {
								t.Fatalf("%+v: the stamped shell differs from the rendered one:\nstamped:  %s\nrendered: %s", p, got, want)
							}
							n++
						}
					}
				}
			}
		}
	}
	t.Logf("%d pages compared", n)
}

// Base keeps its stamps (the test above would pass if it never stamped): a view keeps
// one, once, per section and sign-in state. It is taken out of the process-wide cache
// first, so what another test rendered cannot make this pass.
func TestBaseKeepsItsStamp(t *testing.T) {
	p := PageMeta{Title: "x", Nav: NavWAL, CSRFToken: "t", User: &UserInfo{Email: "e", Role: "r"}}
	key := baseKey{nav: NavWAL, titled: true, csrf: true, user: true}
	baseStamps.Forget(key)
	renderPage(t, Base(p), templ.NopComponent)
	if !baseStamps.Has(key) {
		t.Fatal("no stamp was kept for the page shell")
	}
}

func renderPage(t *testing.T, shell, content templ.Component) string {
	t.Helper()
	var b strings.Builder
	if err := shell.Render(templ.WithChildren(context.Background(), content), &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
