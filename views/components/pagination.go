package components

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Query parameters the list components write. List handlers read the same names.
const (
	ParamLimit  = "limit"
	ParamOffset = "offset"
	ParamSort   = "sort" // "name" ascending, "-name" descending
)

// WithQuery returns base (a path with an optional query, e.g. the request's RequestURI)
// with key set to value, or removed when value is "". Other parameters are kept, so
// filters survive paging and sorting.
func WithQuery(base, key, value string) string {
	if plainPath(base) {
		// What the general case below makes of a path without a query, without parsing
		// and re-encoding it: a list page's links are most often built from its bare path
		// (TestWithQueryPlainPathMatches).
		if value == "" {
			return base
		}
		return base + "?" + url.QueryEscape(key) + "=" + url.QueryEscape(value)
	}
	return withQuery(base, key, value)
}

// plainPath reports whether base is an absolute path of letters, digits, "-", ".", "_",
// "~" and "/", with no query: url.Parse keeps it as it is and EscapedPath returns it.
func plainPath(base string) bool {
	if len(base) == 0 || base[0] != '/' || (len(base) > 1 && base[1] == '/') {
		return false
	}
	for i := 0; i < len(base); i++ {
		c := base[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
			return false
		}
	}
	return true
}

// withQuery is WithQuery for any base.
func withQuery(base, key, value string) string {
	u, err := url.Parse(base)
	if err != nil {
		u = &url.URL{Path: "/"}
	}
	q := u.Query()
	if value == "" {
		q.Del(key)
	} else {
		q.Set(key, value)
	}
	u.RawQuery = q.Encode()
	u.Fragment = ""
	// Only the path and query are ours to write: never echo a scheme or host from input.
	out := u.EscapedPath()
	if out == "" || !strings.HasPrefix(out, "/") {
		out = "/" + strings.TrimLeft(out, "/")
	}
	if u.RawQuery != "" {
		out += "?" + u.RawQuery
	}
	return out
}

// Pager describes one page of a list.
type Pager struct {
	Total   int    // rows matching the filters
	Limit   int    // page size; <= 0 renders nothing
	Offset  int    // rows skipped
	BaseURL string // current path + query, e.g. c.Request().URL.RequestURI()
	// Target is the CSS selector (e.g. "#sources-list") of the element that the list
	// handler returns as its htmx fragment, wrapper included: links then swap it in place
	// (hx-swap="outerHTML") and push the URL. Empty: plain links only.
	Target string
	Label  string // aria-label of the nav; default "Pagination"
	// Estimate says Total is an estimate (a large list is counted exactly only up to a
	// cap): the summary says "about".
	Estimate bool
}

type pageLink struct {
	Label     string
	URL       string
	AriaLabel string
	Current   bool
	Gap       bool // an ellipsis between page numbers
	Disabled  bool // previous on the first page, next on the last
}

func (p Pager) label() string {
	if p.Label != "" {
		return p.Label
	}
	return "Pagination"
}

func (p Pager) pages() int {
	if p.Limit <= 0 || p.Total <= 0 {
		return 0
	}
	return (p.Total + p.Limit - 1) / p.Limit
}

// current is the 1-based page the offset falls in (offsets between pages round down).
func (p Pager) current() int {
	if p.Limit <= 0 || p.Offset <= 0 {
		return 1
	}
	return p.Offset/p.Limit + 1
}

func (p Pager) pageURL(page int) string {
	off := (page - 1) * p.Limit
	v := ""
	if off > 0 {
		v = strconv.Itoa(off)
	}
	return WithQuery(p.BaseURL, ParamOffset, v)
}

// window lists the page numbers to show: first, last, and two either side of the
// current page, with 0 standing for an ellipsis.
func window(current, last int) []int {
	var out []int
	prev := 0
	for n := 1; n <= last; n++ {
		if n == 1 || n == last || (n >= current-2 && n <= current+2) {
			if prev != 0 && n > prev+1 {
				out = append(out, 0)
			}
			out = append(out, n)
			prev = n
		}
	}
	return out
}

func (p Pager) links() (prev pageLink, numbers []pageLink, next pageLink) {
	last := p.pages()
	cur := p.current()
	prev = pageLink{Label: "Previous", AriaLabel: "Previous page", Disabled: cur <= 1}
	if !prev.Disabled {
		prev.URL = p.pageURL(min(cur-1, last))
	}
	next = pageLink{Label: "Next", AriaLabel: "Next page", Disabled: cur >= last}
	if !next.Disabled {
		next.URL = p.pageURL(cur + 1)
	}
	for _, n := range window(cur, last) {
		if n == 0 {
			numbers = append(numbers, pageLink{Label: "…", Gap: true})
			continue
		}
		numbers = append(numbers, pageLink{
			Label:     strconv.Itoa(n),
			URL:       p.pageURL(n),
			AriaLabel: fmt.Sprintf("Page %d", n),
			Current:   n == cur,
		})
	}
	return prev, numbers, next
}

// summary reads "Showing 21–40 of 135", or "Showing 1–50 of about 100,000" when the total
// is an estimate.
func (p Pager) summary() string {
	total := Count(int64(p.Total), p.Estimate)
	from := p.Offset + 1
	if from > p.Total {
		return fmt.Sprintf("Nothing on this page; %s in total", total)
	}
	to := p.Total
	if p.Limit > 0 {
		to = min(p.Offset+p.Limit, p.Total)
	}
	return fmt.Sprintf("Showing %s–%s of %s", Count(int64(from), false), Count(int64(to), false), total)
}

// Count writes a number for people: digits grouped by thousands ("100,000"), and
// "about 100,000" when it is an estimate.
func Count(n int64, estimate bool) string {
	digits := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(digits, "-")
	digits = strings.TrimPrefix(digits, "-")
	var b strings.Builder
	for i, d := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	out := b.String()
	if neg {
		out = "-" + out
	}
	if estimate {
		return "about " + out
	}
	return out
}

// SortColumn describes one sortable table header.
type SortColumn struct {
	Key     string // sort key, e.g. "name"
	Label   string // header text
	Current string // the request's sort parameter: "name", "-name" or ""
	BaseURL string // current path + query
	Target  string // as Pager.Target
	Class   string // extra th classes, e.g. "num"
}

// state is the column's current order: "ascending", "descending" or "none".
func (s SortColumn) state() string {
	switch s.Current {
	case s.Key:
		return "ascending"
	case "-" + s.Key:
		return "descending"
	default:
		return "none"
	}
}

// nextSort is the sort value a click asks for: ascending first, then toggling.
func (s SortColumn) nextSort() string {
	if s.state() == "ascending" {
		return "-" + s.Key
	}
	return s.Key
}

// URL is the link target: the new sort, back to the first page. (The offset goes
// first: from a bare path that leaves a bare path, which WithQuery extends without
// parsing.)
func (s SortColumn) URL() string {
	return WithQuery(WithQuery(s.BaseURL, ParamOffset, ""), ParamSort, s.nextSort())
}

func (s SortColumn) indicator() string {
	switch s.state() {
	case "ascending":
		return "▲"
	case "descending":
		return "▼"
	default:
		return "↕"
	}
}

func (s SortColumn) actionText() string {
	if s.nextSort() == s.Key {
		return ", sort ascending"
	}
	return ", sort descending"
}
