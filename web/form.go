package web

import (
	"errors"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/rosetta-cdc/rosetta/internal/apperr"
	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/views/partials"
)

// Console forms name their inputs with the JSON field names of the catalog inputs
// ("pg_host", "source_id"…), so the per-field messages of an apperr.Invalid land beside
// the inputs through one mapping: the field name.

// formValues reads the submitted form (urlencoded or multipart).
func formValues(c echo.Context) (url.Values, error) {
	v, err := c.FormParams()
	if err != nil {
		return nil, echo.NewHTTPError(http.StatusBadRequest, "the form could not be read")
	}
	return v, nil
}

// strPtr is the form value as "given" (a pointer), for patches from a full form.
func strPtr(v url.Values, name string) *string {
	s := v.Get(name)
	return &s
}

// formInt parses an optional number. Empty is nil; anything unparseable becomes 0, which
// the catalog reports as out of range beside the field, together with every other bad
// field, instead of a separate decoding error that would hide the rest.
func formInt(v url.Values, name string) *int {
	s := strings.TrimSpace(v.Get(name))
	if s == "" {
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		n = 0
	}
	return &n
}

// formID parses a required id select; empty or unparseable is 0 ("is required").
func formID(v url.Values, name string) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(v.Get(name)), 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// pathID reads the :id path parameter; anything but a positive integer is a 404.
func pathID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, echo.ErrNotFound
	}
	return id, nil
}

// formErrors splits a catalog error into what a form shows: messages by field, and a
// message for the form as a whole when the error is not about one field (a pipeline that
// must be paused first). ok is false for errors a form cannot show (not found, internal):
// those go to the error handler.
func formErrors(err error) (fields map[string]string, message string, status int, ok bool) {
	ae := apperr.As(err)
	if ae == nil {
		return nil, "", 0, false
	}
	switch ae.Code {
	case apperr.Invalid, apperr.Conflict:
	default:
		return nil, "", 0, false
	}
	fields = apperr.Fields(ae.Fields).Map()
	if len(fields) == 0 {
		message = sentence(ae.Message)
	} else if ae.Code == apperr.Conflict {
		message = sentence(ae.Message) // "a source named "x" already exists."
	} else {
		message = "This field needs attention: see the message beside it."
		if n := len(fields); n > 1 {
			message = strconv.Itoa(n) + " fields need attention: see the messages beside them."
		}
	}
	return fields, message, apperr.Status(ae.Code), true
}

// sentence capitalises a catalog message (they are lower-case clauses) and ends it with a
// full stop, for showing on its own.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	if r, n := utf8.DecodeRuneInString(s); unicode.IsLower(r) {
		s = string(unicode.ToUpper(r)) + s[n:]
	}
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// typedText is what was typed into a search or filter field: trimmed, and cut at the
// longest a name can be (longer cannot match anything, and never reaches the database).
func typedText(v string) string {
	v = strings.TrimSpace(v)
	if utf8.RuneCountInString(v) > 100 {
		v = string([]rune(v)[:100])
	}
	return v
}

// listParams reads the common list controls from the query. The values come from links
// and bookmarks, so out-of-range ones fall back to defaults instead of failing the page.
func listParams(c echo.Context, sorts []string) (catalog.ListParams, partials.ListState) {
	p := catalog.ListParams{Q: typedText(c.QueryParam("q")), Sort: c.QueryParam("sort")}
	if !slices.Contains(sorts, p.Sort) {
		p.Sort = ""
	}
	if n, err := strconv.Atoi(c.QueryParam("limit")); err == nil && n >= 1 {
		p.Limit = min(n, catalog.MaxLimit)
	}
	// An offset past the end of what lists accept is refused by the catalog (naming the
	// field), never cut or reset: either would silently show another page.
	if n, err := strconv.Atoi(c.QueryParam("offset")); err == nil && n > 0 {
		p.Offset = n
	} else if errors.Is(err, strconv.ErrRange) && !strings.HasPrefix(c.QueryParam("offset"), "-") {
		p.Offset = math.MaxInt
	}
	st := partials.ListState{Q: p.Q, Sort: p.Sort, DefaultSort: sorts[0], BaseURL: c.Request().URL.RequestURI()}
	if p.Limit != 0 {
		st.Limit = strconv.Itoa(p.Limit)
	}
	return p, st
}

// localPath accepts a redirect target from a form only when it is a path on this site.
func localPath(next, fallback string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return fallback
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" {
		return fallback
	}
	return u.RequestURI()
}

// redirect ends a successful POST: 303 See Other for a plain form, HX-Redirect for htmx
// (a full navigation, so the next page shows the flash and the right URL).
func redirect(c echo.Context, to string) error {
	if c.Request().Header.Get("HX-Request") != "" {
		c.Response().Header().Set("HX-Redirect", to)
		return c.NoContent(http.StatusNoContent)
	}
	return c.Redirect(http.StatusSeeOther, to)
}
