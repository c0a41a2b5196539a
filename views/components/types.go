// Package components holds the console's reusable templ pieces: status badges, flash
// messages, form fields, pagination, sortable headers, empty states, error bodies,
// delete confirmation and preflight check results.
//
// Markup follows the CSS conventions in static/css/app.css; page authors compose these
// rather than re-creating their markup, so every page looks and behaves alike.
package components

import "strings"

// CSRFFieldName is the hidden form field that carries the CSRF token on plain form
// posts (configure the CSRF middleware with TokenLookup "header:X-CSRF-Token,form:_csrf").
// htmx requests send the token in the X-CSRF-Token header instead (static/js/app.js).
const CSRFFieldName = "_csrf"

// CSRFHeaderName is the request header static/js/app.js sets on htmx requests.
const CSRFHeaderName = "X-CSRF-Token"

// Flash kinds.
const (
	FlashSuccess = "success"
	FlashError   = "error"
	FlashInfo    = "info"
	FlashWarning = "warning"
)

// Flash is one message shown at the top of the page (or swapped in out-of-band).
type Flash struct {
	Kind    string // FlashSuccess, FlashError, FlashInfo or FlashWarning
	Message string
	// Links follow the message: the entities it names (the pipeline holding a slot),
	// so the reader can go there and fix it.
	Links []Link
}

// Link is a labelled local URL.
type Link struct {
	Label string
	URL   string
}

func flashKind(kind string) string {
	switch kind {
	case FlashSuccess, FlashError, FlashWarning:
		return kind
	default:
		return FlashInfo
	}
}

// flashLabel is read by screen readers before the message, so the kind is not told by
// colour alone.
func flashLabel(kind string) string {
	switch flashKind(kind) {
	case FlashSuccess:
		return "Success: "
	case FlashError:
		return "Error: "
	case FlashWarning:
		return "Warning: "
	default:
		return "Note: "
	}
}

// badgeClass maps a pipeline status (runtime RUNNING/PAUSED/ERROR or desired
// START/PAUSE/REFRESH, any case) to its CSS class; unknown statuses get the neutral badge.
func badgeClass(status string) string {
	switch strings.ToUpper(strings.TrimSpace(status)) {
	case "RUNNING":
		return "badge badge-running"
	case "PAUSED":
		return "badge badge-paused"
	case "ERROR":
		return "badge badge-error"
	case "START":
		return "badge badge-start"
	case "PAUSE":
		return "badge badge-pause"
	case "REFRESH":
		return "badge badge-refresh"
	default:
		return "badge"
	}
}

// Check statuses, as returned by the source test-connection / preflight checks.
const (
	CheckOK   = "ok"
	CheckWarn = "warn"
	CheckFail = "fail"
)

// Check is one preflight / test-connection result.
type Check struct {
	Name    string // e.g. "wal_level is logical"
	Status  string // CheckOK, CheckWarn or CheckFail
	Message string // a human sentence
}

func checkStatus(s string) string {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case CheckOK:
		return CheckOK
	case CheckWarn, "warning":
		return CheckWarn
	default:
		return CheckFail // an unknown status must not read as a pass
	}
}

func checkLabel(s string) string {
	switch checkStatus(s) {
	case CheckOK:
		return "OK"
	case CheckWarn:
		return "Warning"
	default:
		return "Failed"
	}
}

// ErrorInfo is what an error page (or htmx error fragment) shows. Message must already
// be safe for users: never SQL text, never a stack.
type ErrorInfo struct {
	Status    int    // HTTP status, shown small above the title; 0 hides it
	Title     string // e.g. "Not found"
	Message   string
	RequestID string // shown so a user can quote it to an operator
}

// joinSentences joins the sentences that are not empty with a space.
func joinSentences(ss ...string) string {
	out := ""
	for _, s := range ss {
		if s == "" {
			continue
		}
		if out != "" {
			out += " "
		}
		out += s
	}
	return out
}
