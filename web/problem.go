package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humaecho"
	"github.com/labstack/echo/v4"

	"github.com/rosetta-cdc/rosetta/internal/apperr"
)

// Problem is an RFC 9457 problem document: every /api/ error has this shape.
type Problem struct {
	Type      string              `json:"type,omitempty" doc:"URI identifying the problem type" example:"about:blank"`
	Title     string              `json:"title" doc:"Short summary of the status" example:"Unprocessable Entity"`
	Status    int                 `json:"status" example:"422"`
	Detail    string              `json:"detail,omitempty" doc:"What went wrong, for a person" example:"some fields are not valid"`
	Instance  string              `json:"instance,omitempty"`
	Code      string              `json:"code" doc:"Stable machine-readable code"`
	RequestID string              `json:"request_id,omitempty"`
	Errors    []apperr.FieldError `json:"errors,omitempty" doc:"Per-field messages (every bad field at once)"`
	Related   []apperr.Ref        `json:"related,omitempty" doc:"Entities involved, e.g. the pipelines blocking a delete"`
}

// TransformSchema documents the code's enumeration from the error table itself
// (apperr), so the OpenAPI document cannot drift from the codes the server answers.
func (Problem) TransformSchema(_ huma.Registry, s *huma.Schema) *huma.Schema {
	if code := s.Properties["code"]; code != nil {
		code.Enum = nil
		for _, c := range apperr.Codes() {
			code.Enum = append(code.Enum, string(c))
		}
	}
	return s
}

func (p *Problem) Error() string  { return p.Detail }
func (p *Problem) GetStatus() int { return p.Status }

// ContentType makes huma answer application/problem+json, as RFC 9457 asks.
func (p *Problem) ContentType(string) string { return "application/problem+json" }

// problemFromError is the single place errors become problems, for huma and echo alike.
// Internal errors are logged with the request id; the client sees only that id.
func problemFromError(status int, msg string, errs []error, reqID string, log *slog.Logger) *Problem {
	p := &Problem{Status: status, Detail: msg, RequestID: reqID}
	for _, err := range errs {
		if err == nil {
			continue
		}
		if ae := apperr.As(err); ae != nil {
			p.Status = apperr.Status(ae.Code)
			p.Code = string(ae.Code)
			p.Detail = ae.Message
			p.Errors = ae.Fields
			p.Related = ae.Related
			if ae.Code == apperr.Internal || ae.Code == apperr.Unavailable {
				log.Error("request failed", "code", ae.Code, "err", ae.Error())
			}
			break
		}
		var detail *huma.ErrorDetail
		if errors.As(err, &detail) {
			field, bad := classifyDetail(detail)
			if bad {
				p.Status = http.StatusBadRequest
			}
			// detail.Value is deliberately dropped: for a body it is the raw request,
			// which may carry a password.
			p.Errors = append(p.Errors, apperr.FieldError{Field: field, Message: plainMessage(stripFieldPrefix(detail.Message))})
			continue
		}
		if status >= 500 {
			log.Error("request failed", "err", err)
		}
	}
	if p.Code == "" {
		p.Code = string(apperr.CodeFor(p.Status))
	}
	if p.Status >= 500 && p.Code == string(apperr.Internal) {
		p.Detail = fmt.Sprintf("internal error (request id %s)", reqID)
	}
	if p.Status == http.StatusUnprocessableEntity && len(p.Errors) > 0 && p.Detail == "validation failed" {
		p.Detail = "some fields are not valid"
	}
	if p.Status == http.StatusBadRequest && p.Code == string(apperr.BadRequest) && len(p.Errors) > 0 {
		p.Detail = "the request is malformed: " + p.Errors[0].Field + ": " + p.Errors[0].Message
	}
	p.Title = http.StatusText(p.Status)
	return p
}

// classifyDetail turns huma's location ("body", "query.limit", "path.id") into a field
// name, and tells whether the problem is malformed input (400) rather than a value out
// of range (422). Body validation is switched off (the catalog validates), so any body
// error is a decoding error: malformed JSON, a wrong type or an unknown field.
func classifyDetail(d *huma.ErrorDetail) (field string, malformed bool) {
	loc := d.Location
	switch {
	case loc == "body" || strings.HasPrefix(loc, "body."):
		if f, ok := strings.CutPrefix(loc, "body."); ok {
			return f, true
		}
		if f := fieldFromDecodeMessage(d.Message); f != "" {
			return f, true
		}
		return "body", true
	case strings.HasPrefix(loc, "query.") || strings.HasPrefix(loc, "path.") || strings.HasPrefix(loc, "header."):
		_, name, _ := strings.Cut(loc, ".")
		return name, strings.HasPrefix(d.Message, "invalid ")
	}
	return loc, false
}

// plainMessages rewrite huma's parameter messages in the words the catalog uses for
// bodies ("must be …"), so a client sees one voice whichever layer refused the value, and
// never a Go time layout.
var plainMessages = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`^invalid date/time for format .*$`), "must be an RFC 3339 date-time such as 2026-01-31T00:00:00Z"},
	{regexp.MustCompile(`^invalid integer$`), "must be a whole number"},
	{regexp.MustCompile(`^invalid boolean$`), "must be true or false"},
	{regexp.MustCompile(`^expected number >= (\S+)$`), "must be at least $1"},
	{regexp.MustCompile(`^expected number <= (\S+)$`), "must be at most $1"},
	{regexp.MustCompile(`^expected value to be one of "(.*)"$`), "must be one of $1"},
}

func plainMessage(msg string) string {
	for _, m := range plainMessages {
		if m.re.MatchString(msg) {
			return m.re.ReplaceAllString(msg, m.with)
		}
	}
	return msg
}

var humaErrorsOnce sync.Once

// installHumaErrors routes huma's error construction through problemFromError. huma's
// hook is a package variable, so it is set once per process: servers created later
// (tests run many in parallel) would otherwise write it while others' requests read it.
func installHumaErrors() { humaErrorsOnce.Do(setHumaErrors) }

func setHumaErrors() {
	huma.NewErrorWithContext = func(ctx huma.Context, status int, msg string, errs ...error) huma.StatusError {
		reqID, log := "", slog.Default()
		if ctx != nil {
			if c := humaecho.Unwrap(ctx); c != nil {
				reqID = requestID(c)
				log = loggerOf(c)
			}
		}
		return problemFromError(status, msg, errs, reqID, log)
	}
	huma.NewError = func(status int, msg string, errs ...error) huma.StatusError {
		return problemFromError(status, msg, errs, "", slog.Default())
	}
}

func requestID(c echo.Context) string {
	return c.Response().Header().Get(echo.HeaderXRequestID)
}

// writeProblem answers an /api/ request outside huma (404, 405, middleware errors).
func writeProblem(c echo.Context, p *Problem) error {
	c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
	c.Response().WriteHeader(p.Status)
	return json.NewEncoder(c.Response()).Encode(p)
}
