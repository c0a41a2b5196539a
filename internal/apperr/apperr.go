// Package apperr is the one contract between the services and every output format: a
// service returns an *Error carrying a Code, and each face (JSON problem, HTML page, htmx
// fragment) maps the code to a status through one table. Nothing outside the services
// inspects database errors.
package apperr

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

type Code string

const (
	Invalid      Code = "invalid"      // bad input, with per-field messages
	NotFound     Code = "not_found"    // no such entity
	Conflict     Code = "conflict"     // duplicate name, entity in use, impossible transition
	Unavailable  Code = "unavailable"  // the database (or another dependency) is unreachable
	Unauthorized Code = "unauthorized" // no valid principal
	Forbidden    Code = "forbidden"    // principal lacks the role
	RateLimited  Code = "rate_limited" // too many attempts
	Internal     Code = "internal"     // a bug; details are logged, never shown

	// The HTTP layer's own refusals, before any service is asked; services never
	// return them.
	BadRequest           Code = "bad_request"            // malformed input: bad JSON, a wrong type, an unknown field
	MethodNotAllowed     Code = "method_not_allowed"     // the route exists, the method does not
	TooLarge             Code = "too_large"              // the body is over the limit
	UnsupportedMediaType Code = "unsupported_media_type" // a body that is not JSON (or a form)
)

// statuses is the one error table: every code with its HTTP status. Status reads it one
// way, CodeFor the other; no status appears twice, so both directions are functions.
var statuses = map[Code]int{
	Invalid:              http.StatusUnprocessableEntity,
	NotFound:             http.StatusNotFound,
	Conflict:             http.StatusConflict,
	Unavailable:          http.StatusServiceUnavailable,
	Unauthorized:         http.StatusUnauthorized,
	Forbidden:            http.StatusForbidden,
	RateLimited:          http.StatusTooManyRequests,
	Internal:             http.StatusInternalServerError,
	BadRequest:           http.StatusBadRequest,
	MethodNotAllowed:     http.StatusMethodNotAllowed,
	TooLarge:             http.StatusRequestEntityTooLarge,
	UnsupportedMediaType: http.StatusUnsupportedMediaType,
}

// codes is statuses inverted, built once from it.
var codes = func() map[int]Code {
	m := make(map[int]Code, len(statuses))
	for c, st := range statuses {
		if prev, dup := m[st]; dup {
			panic(fmt.Sprintf("apperr: status %d is mapped from both %s and %s", st, prev, c))
		}
		m[st] = c
	}
	return m
}()

// Codes lists every code in the table, sorted, for documentation (the API's enum).
func Codes() []Code {
	out := make([]Code, 0, len(statuses))
	for c := range statuses {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// FieldError names one bad field. Field uses the JSON name so both faces can place it.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is what services return. Message is safe to show a user.
type Error struct {
	Code    Code
	Message string
	Fields  []FieldError
	// Links optionally name related entities (e.g. the pipelines blocking a delete), so
	// the console can link them and the API can list them.
	Related []Ref
	Err     error // the cause, for logs only
}

// Ref identifies another entity mentioned by an error.
type Ref struct {
	Kind string `json:"kind"`
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(string(e.Code))
	b.WriteString(": ")
	b.WriteString(e.Message)
	for _, f := range e.Fields {
		fmt.Fprintf(&b, "; %s: %s", f.Field, f.Message)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

func E(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap marks err as an internal failure while keeping it for the log.
func Wrap(err error, format string, args ...any) *Error {
	return &Error{Code: Internal, Message: fmt.Sprintf(format, args...), Err: err}
}

// CodeOf returns the code of the first *Error in err's chain, Internal otherwise.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// As extracts the *Error from err's chain, or nil.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// Status is the HTTP status of a code; an unknown code is an internal error.
func Status(c Code) int {
	if st, ok := statuses[c]; ok {
		return st
	}
	return http.StatusInternalServerError
}

// CodeFor is the code of an HTTP status (for errors raised by the HTTP layer, which carry
// only a status); a status the table does not know is an internal error.
func CodeFor(status int) Code {
	if c, ok := codes[status]; ok {
		return c
	}
	return Internal
}

// Fields accumulates per-field messages so a form reports every bad field at once.
type Fields []FieldError

func (f *Fields) Add(field, format string, args ...any) {
	*f = append(*f, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Has reports whether field already has a message (to avoid stacking several on one field).
func (f Fields) Has(field string) bool {
	for _, e := range f {
		if e.Field == field {
			return true
		}
	}
	return false
}

// Err returns an Invalid error when any message was added, nil otherwise.
func (f Fields) Err() error {
	if len(f) == 0 {
		return nil
	}
	return &Error{Code: Invalid, Message: "some fields are not valid", Fields: f}
}

// Map returns the messages by field, for templates.
func (f Fields) Map() map[string]string {
	m := make(map[string]string, len(f))
	for _, e := range f {
		if _, ok := m[e.Field]; !ok {
			m[e.Field] = e.Message
		}
	}
	return m
}
