package components

import (
	"html"
	"strings"
	"testing"
)

// WithQuery's shortcut for a bare path gives what parsing and re-encoding give, for
// paths it takes (letters, digits, -._~ and slashes) and ones it must leave to the
// general case (a query, escapes, a host-like start, spaces, colons).
func TestWithQueryPlainPathMatches(t *testing.T) {
	bases := []string{"/", "/pipelines", "/sources/12/pipelines", "/a-b_c.d~e/", "/./x/../y", "/A/Z09",
		"//evil.example/x", "", "pipelines", "/x?y=1", "/x#f", "/a%20b", "/a b", "/a:b", "/a;b", "/ü", "/x?", "///"}
	values := []string{"", "50", "-name", "a b&c=d", "ü/?#%", "status"}
	for _, base := range bases {
		for _, key := range []string{"offset", "sort", "a b", "k&="} {
			for _, v := range values {
				if got, want := WithQuery(base, key, v), withQuery(base, key, v); got != want {
					t.Errorf("WithQuery(%q, %q, %q) = %q, the general case %q (shortcut taken: %v)", base, key, v, got, want, plainPath(base))
				}
			}
		}
	}
	if !plainPath("/pipelines") || plainPath("/pipelines?q=x") || plainPath("//x") {
		t.Error("plainPath takes the wrong paths")
	}
}

// Escape is html.EscapeString (templ's escaping), whatever the text.
func TestEscapeIsHTMLEscape(t *testing.T) {
	for _, s := range []string{"", "orders", "<", ">", "&", "'", `"`, `<b>"x" & 'y'</b>`, "naïve “quoted”", "a&amp;b", "\x00\u202e",
		"\uE000stamp\uE001", "2026-05-01 12:00:00 UTC", "&#39;", strings.Repeat("x", 300) + "'"} {
		if got, want := Escape(s), html.EscapeString(s); got != want {
			t.Errorf("Escape(%q) = %q, html.EscapeString %q", s, got, want)
		}
	}
}
