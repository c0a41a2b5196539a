package web_test

import (
	"strings"
	"testing"

	"github.com/rosetta-cdc/rosetta/internal/apperr"
	"github.com/rosetta-cdc/rosetta/web"
	"github.com/rosetta-cdc/rosetta/web/webtest"
)

// TestNewRefusesMissingDependencies: the server never fills in a dependency by itself
// (an auth service built on the spot would, for one, record no audit); it names every
// missing one.
func TestNewRefusesMissingDependencies(t *testing.T) {
	t.Parallel()
	_, err := web.New(web.Deps{})
	if err == nil {
		t.Fatal("New with no dependencies succeeded")
	}
	for _, name := range []string{"Audit", "Auth", "Catalog", "Config", "Logger", "Pool", "Version"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("%q does not name %s", err, name)
		}
	}
	a := webtest.New(t)
	if _, err := web.New(web.Deps{Config: a.Config, Pool: a.Pool, Catalog: a.Catalog, Auth: a.Auth, Version: "x"}); err == nil ||
		strings.Contains(err.Error(), "Catalog") || !strings.Contains(err.Error(), "Audit") || !strings.Contains(err.Error(), "Logger") {
		t.Errorf("New without Audit and Logger: %v", err)
	}
}

// TestProblemCodesComeFromTheErrorTable: the API document lists exactly the codes of
// apperr's table, and every code answers its status.
func TestProblemCodesComeFromTheErrorTable(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]struct {
					Enum []string `json:"enum"`
				} `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	a.Do("GET", "/api/v1/openapi.json", nil).Expect(t, 200).Decode(t, &doc)
	got := doc.Components.Schemas["Problem"].Properties["code"].Enum
	var want []string
	for _, c := range apperr.Codes() {
		want = append(want, string(c))
		if back := apperr.CodeFor(apperr.Status(c)); back != c {
			t.Errorf("%s → %d → %s", c, apperr.Status(c), back)
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("documented codes %v, the table has %v", got, want)
	}
	if apperr.CodeFor(418) != apperr.Internal || apperr.Status("nonsense") != 500 {
		t.Error("an unknown status or code is not an internal error")
	}
}

// TestRequestLogLine: every request leaves one line with what it was and how it went
// (method, path without the query, status, duration, request id, remote address), at
// info level, or error for a 5xx.
func TestRequestLogLine(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	r := a.Do("GET", "/api/v1/sources/999999?q=needle-in-the-query", nil).Expect(t, 404)
	id := r.Header.Get("X-Request-ID")
	if id == "" {
		t.Fatal("no X-Request-ID on the answer")
	}
	var line string
	for _, l := range strings.Split(a.Logs.String(), "\n") {
		if strings.Contains(l, "msg=request ") && strings.Contains(l, "request_id="+id) {
			line = l
		}
	}
	if line == "" {
		t.Fatalf("no request line for request %s in the log:\n%s", id, a.Logs.String())
	}
	for _, want := range []string{"level=INFO ", "method=GET ", "path=/api/v1/sources/999999 ", "status=404 ", "duration=", "remote=192.0.2.1"} {
		if !strings.Contains(line, want) {
			t.Errorf("the request line lacks %q: %s", want, line)
		}
	}
	if strings.Contains(line, "needle") {
		t.Errorf("the request line carries the query string: %s", line)
	}
}
