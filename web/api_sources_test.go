package web_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/rosetta-cdc/rosetta/internal/testdb"
	"github.com/rosetta-cdc/rosetta/web/webtest"
)

func sourceBody(name string) map[string]any {
	return map[string]any{
		"name": name, "pg_host": "db.internal", "pg_port": 5432, "pg_database": "orders",
		"pg_username": "rosetta", "pg_password": "hunter2-secret", "publication_name": "rosetta_pub",
		"replication_id": "rosetta_slot",
	}
}

// sourceFor registers a real test source database as a Rosetta source.
func sourceFor(name string, s testdb.Source) map[string]any {
	return map[string]any{
		"name": name, "pg_host": s.Host, "pg_port": s.Port, "pg_database": s.Database,
		"pg_username": s.User, "pg_password": s.Password, "publication_name": s.Publication, "replication_id": s.Slot,
	}
}

type problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	Code      string `json:"code"`
	RequestID string `json:"request_id"`
	Errors    []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
	Related []struct {
		Kind string `json:"kind"`
		ID   int64  `json:"id"`
		Name string `json:"name"`
	} `json:"related"`
}

func expectProblem(t *testing.T, r *webtest.Response, status int) problem {
	t.Helper()
	r.Expect(t, status)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Fatalf("Content-Type = %q, want application/problem+json; body %s", ct, r.Body)
	}
	var p problem
	r.Decode(t, &p)
	if p.Status != status || p.Title == "" || p.Code == "" {
		t.Fatalf("problem %+v lacks status/title/code", p)
	}
	return p
}

func fieldsOf(p problem) map[string]string {
	m := map[string]string{}
	for _, e := range p.Errors {
		m[e.Field] = e.Message
	}
	return m
}

func TestSourceCRUD(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)

	r := a.Do("POST", "/api/v1/sources", sourceBody("Orders DB")).Expect(t, http.StatusCreated)
	src := r.Map(t)
	id := int64(src["id"].(float64))
	if loc := r.Header.Get("Location"); loc != fmt.Sprintf("/api/v1/sources/%d", id) {
		t.Errorf("Location = %q", loc)
	}
	if src["pg_password_set"] != true {
		t.Errorf("pg_password_set = %v", src["pg_password_set"])
	}
	if _, ok := src["pg_password"]; ok || bytes.Contains(r.Body, []byte("hunter2")) {
		t.Fatalf("response exposes the password: %s", r.Body)
	}
	for _, f := range []string{"created_at", "updated_at"} {
		if s, _ := src[f].(string); !strings.HasSuffix(s, "Z") {
			t.Errorf("%s = %v, want RFC 3339 UTC", f, src[f])
		}
	}

	got := a.Do("GET", fmt.Sprintf("/api/v1/sources/%d", id), nil).Expect(t, 200).Map(t)
	if got["name"] != "Orders DB" || got["pg_port"] != float64(5432) {
		t.Errorf("get = %v", got)
	}

	// PUT changes the fields given and keeps the rest; a new endpoint needs the password.
	up := a.Do("PUT", fmt.Sprintf("/api/v1/sources/%d", id), map[string]any{"pg_host": "10.0.0.7", "pg_port": 6543,
		"pg_password": "hunter2-secret"}).Expect(t, 200).Map(t)
	if up["pg_host"] != "10.0.0.7" || up["pg_port"] != float64(6543) || up["pg_database"] != "orders" || up["pg_password_set"] != true {
		t.Errorf("after PUT: %v", up)
	}
	// PATCH is the same, and a trailing slash is the same resource.
	up = a.Do("PATCH", fmt.Sprintf("/api/v1/sources/%d/", id), map[string]any{"name": "orders-primary"}).Expect(t, 200).Map(t)
	if up["name"] != "orders-primary" || up["pg_host"] != "10.0.0.7" {
		t.Errorf("after PATCH: %v", up)
	}

	list := a.Do("GET", "/api/v1/sources/", nil).Expect(t, 200).Map(t)
	if list["total"] != float64(1) || list["limit"] != float64(50) || list["offset"] != float64(0) || len(list["items"].([]any)) != 1 {
		t.Errorf("list = %v", list)
	}
	// with a query string after the slash, too
	if list := a.Do("GET", "/api/v1/sources/?limit=7", nil).Expect(t, 200).Map(t); list["limit"] != float64(7) {
		t.Errorf("list with a trailing slash and a query = %v", list)
	}

	a.Do("DELETE", fmt.Sprintf("/api/v1/sources/%d", id), nil).Expect(t, http.StatusNoContent)
	p := expectProblem(t, a.Do("GET", fmt.Sprintf("/api/v1/sources/%d", id), nil), 404)
	if p.Code != "not_found" {
		t.Errorf("code = %q", p.Code)
	}
	expectProblem(t, a.Do("DELETE", fmt.Sprintf("/api/v1/sources/%d", id), nil), 404)
	expectProblem(t, a.Do("PUT", "/api/v1/sources/999999", map[string]any{"name": "x"}), 404)
}

func TestSourceValidationReportsEveryField(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	p := expectProblem(t, a.Do("POST", "/api/v1/sources", map[string]any{
		"name": "", "pg_host": "not a host!", "pg_port": 70000, "pg_database": "", "pg_username": "",
		"pg_password": "", "publication_name": "1bad-pub", "replication_id": "Bad-Slot",
	}), http.StatusUnprocessableEntity)
	f := fieldsOf(p)
	for _, field := range []string{"name", "pg_host", "pg_port", "pg_database", "pg_username", "pg_password", "publication_name", "replication_id"} {
		if f[field] == "" {
			t.Errorf("no message for %s; got %v", field, f)
		}
	}
	if !strings.Contains(f["pg_port"], "65535") {
		t.Errorf("pg_port message %q does not give the range", f["pg_port"])
	}
	// An empty object names every required field too.
	p = expectProblem(t, a.Do("POST", "/api/v1/sources", map[string]any{}), http.StatusUnprocessableEntity)
	if len(p.Errors) < 7 {
		t.Errorf("empty body: %d errors, want every required field: %v", len(p.Errors), p.Errors)
	}
	// Nothing was written.
	if l := a.Do("GET", "/api/v1/sources", nil).Map(t); l["total"] != float64(0) {
		t.Errorf("invalid create left rows: %v", l)
	}
}

func TestMalformedRequestsAre400NamingTheField(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	cases := []struct {
		name, body, field string
	}{
		{"malformed JSON", `{"name": "x",`, "body"},
		{"wrong type", `{"name": "x", "pg_port": "5432"}`, "pg_port"},
		{"unknown field", `{"name": "x", "pg_hots": "typo"}`, "pg_hots"},
		{"trailing data", `{"name": "x"} {"name": "y"}`, "body"},
		{"not an object", `[1,2]`, "body"},
	}
	for _, c := range cases {
		p := expectProblem(t, a.Do("POST", "/api/v1/sources", c.body), http.StatusBadRequest)
		if f := fieldsOf(p); f[c.field] == "" {
			t.Errorf("%s: errors %v do not name %q", c.name, p.Errors, c.field)
		}
		if strings.Contains(string(p.Detail), "hunter2") {
			t.Errorf("%s: detail echoes the body", c.name)
		}
	}
	// A password in a malformed body is never echoed back.
	r := a.Do("POST", "/api/v1/sources", `{"pg_password": "hunter2-secret", "pg_port": "x"}`)
	if bytes.Contains(r.Body, []byte("hunter2")) {
		t.Fatalf("400 echoes the password: %s", r.Body)
	}
	expectProblem(t, a.Do("GET", "/api/v1/sources/abc", nil), http.StatusBadRequest)
	expectProblem(t, a.Do("GET", "/api/v1/sources?limit=lots", nil), http.StatusBadRequest)
	expectProblem(t, a.Do("GET", "/api/v1/sources?limit=501", nil), http.StatusUnprocessableEntity)
	expectProblem(t, a.Do("GET", "/api/v1/nope", nil), http.StatusNotFound)
}

func TestDuplicateNamesConflictCaseInsensitively(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	a.Do("POST", "/api/v1/sources", sourceBody("orders")).Expect(t, 201)
	p := expectProblem(t, a.Do("POST", "/api/v1/sources", sourceBody("ORDERS")), http.StatusConflict)
	if !strings.Contains(p.Detail, "already exists") {
		t.Errorf("detail = %q", p.Detail)
	}
	other := a.Do("POST", "/api/v1/sources", sourceBody("billing")).Expect(t, 201).Map(t)
	expectProblem(t, a.Do("PUT", fmt.Sprintf("/api/v1/sources/%v", other["id"]), map[string]any{"name": "Orders"}), http.StatusConflict)
}

func TestConcurrentCreatesWithOneName(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	const n = 20
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = a.Do("POST", "/api/v1/sources", sourceBody("race")).Code
		}()
	}
	wg.Wait()
	created, conflicts := 0, 0
	for _, c := range codes {
		switch c {
		case 201:
			created++
		case 409:
			conflicts++
		}
	}
	if created != 1 || conflicts != n-1 {
		t.Fatalf("codes = %v: want exactly one 201 and %d 409", codes, n-1)
	}
	var rows int
	if err := a.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM sources`).Scan(&rows); err != nil || rows != 1 {
		t.Fatalf("rows = %d, %v", rows, err)
	}
}

func TestListPagingSearchAndSort(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	for _, n := range []string{"charlie", "alpha", "bravo", "delta", "echo", "100% real"} {
		a.Do("POST", "/api/v1/sources", sourceBody(n)).Expect(t, 201)
	}
	l := a.Do("GET", "/api/v1/sources?limit=2&offset=1", nil).Expect(t, 200).Map(t)
	items := l["items"].([]any)
	if l["total"] != float64(6) || len(items) != 2 || items[0].(map[string]any)["name"] != "alpha" {
		t.Errorf("page = %v", l)
	}
	l = a.Do("GET", "/api/v1/sources?sort=-name&limit=1", nil).Expect(t, 200).Map(t)
	if l["items"].([]any)[0].(map[string]any)["name"] != "echo" {
		t.Errorf("sort=-name first = %v", l["items"])
	}
	l = a.Do("GET", "/api/v1/sources?q=RAV", nil).Expect(t, 200).Map(t)
	if l["total"] != float64(1) {
		t.Errorf("q=RAV total = %v", l["total"])
	}
	// LIKE wildcards in q are literal.
	l = a.Do("GET", "/api/v1/sources?q=%25", nil).Expect(t, 200).Map(t)
	if l["total"] != float64(1) {
		t.Errorf("q=%% total = %v, want only the name containing %%", l["total"])
	}
	expectProblem(t, a.Do("GET", "/api/v1/sources?sort=password", nil), http.StatusUnprocessableEntity)
}

func TestCredentialsAreSealedAtRestAndNeverLogged(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	a.Do("POST", "/api/v1/sources", sourceBody("sealed")).Expect(t, 201)
	d := destBody("wh")
	d["snowflake_private_key_passphrase"] = "p4ssphr4se-secret"
	a.Do("POST", "/api/v1/destinations", d).Expect(t, 201)

	var pw, pass []byte
	ctx := context.Background()
	if err := a.DB.Pool.QueryRow(ctx, `SELECT pg_password FROM sources`).Scan(&pw); err != nil {
		t.Fatal(err)
	}
	if err := a.DB.Pool.QueryRow(ctx, `SELECT snowflake_private_key_passphrase FROM destinations`).Scan(&pass); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(pw, []byte("hunter2")) || bytes.Contains(pass, []byte("p4ssphr4se")) {
		t.Fatal("plaintext credential stored")
	}
	if got, err := a.Box.Open(pw); err != nil || got != "hunter2-secret" {
		t.Fatalf("sealed password does not open: %q %v", got, err)
	}
	// the whole database dump, as text, holds neither secret
	var dump string
	if err := a.DB.Pool.QueryRow(ctx, `SELECT string_agg(t::text, ' ') FROM (SELECT s::text AS t FROM sources s UNION ALL SELECT d::text FROM destinations d) x`).Scan(&dump); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(dump, "hunter2") || strings.Contains(dump, "p4ssphr4se") {
		t.Fatal("plaintext credential in a row")
	}
	for _, p := range []string{"/api/v1/sources", "/api/v1/destinations"} {
		if r := a.Do("GET", p, nil); bytes.Contains(r.Body, []byte("hunter2")) || bytes.Contains(r.Body, []byte("p4ssphr4se")) {
			t.Fatalf("%s exposes a credential", p)
		}
	}
	if strings.Contains(a.Logs.String(), "hunter2") || strings.Contains(a.Logs.String(), "p4ssphr4se") {
		t.Fatal("a credential reached the log")
	}
}
