package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
)

// Render is the one way the console writes HTML. page is the full document (layout
// included); fragment is the part an htmx request swaps in. An htmx request
// (HX-Request) gets only the fragment, unless it restores history
// (HX-History-Restore-Request), which needs the whole page; a nil fragment always
// renders page. Because one URL answers with either, every response says
// Vary: HX-Request, HX-History-Restore-Request, so no cache serves a fragment as a page.
//
// The component renders into a buffer first: a template error then becomes a clean
// error response (via the error handler) instead of half a page with a 200.
func Render(c echo.Context, status int, page templ.Component, fragment templ.Component) error {
	res := c.Response()
	addVary(res.Header(), "HX-Request", "HX-History-Restore-Request")

	comp := page
	if fragment != nil && IsFragmentRequest(c.Request()) {
		comp = fragment
	}

	buf := templ.GetBuffer()
	defer templ.ReleaseBuffer(buf)
	if err := comp.Render(c.Request().Context(), buf); err != nil {
		return err
	}
	res.Header().Set(echo.HeaderContentType, "text/html; charset=utf-8")
	// The length is known: said, net/http writes the page as it is instead of in chunks
	// (a chunk header, a trailer and one more write to the socket per page).
	res.Header().Set(echo.HeaderContentLength, strconv.Itoa(buf.Len()))
	res.WriteHeader(status)
	_, err := res.Write(buf.Bytes())
	return err
}

// IsFragmentRequest reports whether r is an htmx request that wants a fragment rather
// than the full page.
func IsFragmentRequest(r *http.Request) bool {
	return r.Header.Get("HX-Request") != "" && r.Header.Get("HX-History-Restore-Request") == ""
}

// addVary adds names to the Vary header unless they are already listed, keeping what
// other middleware (e.g. gzip's Accept-Encoding) put there.
func addVary(h http.Header, names ...string) {
	for _, name := range names {
		present := false
		for _, v := range h.Values("Vary") {
			for _, f := range strings.Split(v, ",") {
				if f = strings.TrimSpace(f); f == "*" || strings.EqualFold(f, name) {
					present = true
				}
			}
		}
		if !present {
			h.Add("Vary", name)
		}
	}
}
