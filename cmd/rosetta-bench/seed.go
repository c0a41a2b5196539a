package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"

	"github.com/rosetta-cdc/rosetta/internal/app"
	"github.com/rosetta-cdc/rosetta/internal/auth"
	"github.com/rosetta-cdc/rosetta/internal/db"
)

const (
	nSources      = 1000
	nDestinations = 100
	nPipelines    = 5000
)

type fleet struct {
	sourceIDs []int64
}

// seed fills the catalog with SQL (thousands of HTTP creates would only measure the
// seeding). Every source gets one WAL sample, so the single read returns a latest sample
// as a monitored fleet's does.
func seed(ctx context.Context, a *app.App, pool *db.Pool) (fleet, error) {
	sealed, err := a.Box.Seal("bench-password")
	if err != nil {
		return fleet{}, err
	}
	stmts := []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO sources (name, pg_host, pg_port, pg_database, pg_username, pg_password, publication_name, replication_id)
		  SELECT format('source-%s', lpad(g::text, 5, '0')), format('db%s.bench.internal', g), 5432, 'app', 'rosetta', $1,
		         'rosetta_pub', format('rosetta_slot_%s', g)
		  FROM generate_series(1, $2::int) g`, []any{sealed, nSources}},
		{`INSERT INTO destinations (name, snowflake_account, snowflake_user, snowflake_database, snowflake_schema, snowflake_role,
		                            snowflake_private_key_path)
		  SELECT format('destination-%s', lpad(g::text, 4, '0')), 'xy12345', 'LOADER', 'ANALYTICS', 'PUBLIC', 'LOADER_ROLE',
		         '/keys/loader.p8'
		  FROM generate_series(1, $1::int) g`, []any{nDestinations}},
		// Names are shuffled against ids (md5) so name and created_at orders differ.
		{`WITH s AS (SELECT array_agg(id ORDER BY id) a FROM sources), d AS (SELECT array_agg(id ORDER BY id) a FROM destinations)
		  INSERT INTO pipelines (name, source_id, destination_id, status, created_at)
		  SELECT format('pipeline-%s-%s', left(md5(g::text), 6), g), s.a[1 + (g - 1) % cardinality(s.a)],
		         d.a[1 + (g - 1) % cardinality(d.a)], CASE WHEN g % 10 = 0 THEN 'START' ELSE 'PAUSE' END,
		         now() - make_interval(secs => $1::int - g)
		  FROM generate_series(1, $1::int) g, s, d`, []any{nPipelines}},
		{`INSERT INTO pipeline_metadata (pipeline_id, status, last_error, last_error_at)
		  SELECT id, CASE WHEN status = 'START' AND id % 20 = 0 THEN 'ERROR' WHEN status = 'START' THEN 'RUNNING' ELSE 'PAUSED' END,
		         CASE WHEN status = 'START' AND id % 20 = 0 THEN 'slot lost' END, CASE WHEN status = 'START' AND id % 20 = 0 THEN now() END
		  FROM pipelines`, nil},
		{`SELECT wal_metrics_ensure_partitions(now() - interval '1 day', now() + interval '1 day')`, nil},
		{`INSERT INTO wal_metrics (source_id, size_bytes, retained_bytes, slot_active, wal_status, recorded_at)
		  SELECT id, 1073741824 + id, 1048576 * id, true, 'reserved', now() - interval '1 minute' FROM sources`, nil},
		{`ANALYZE`, nil},
	}
	for _, s := range stmts {
		if _, err := pool.Exec(ctx, s.sql, s.args...); err != nil {
			return fleet{}, fmt.Errorf("seed: %w", err)
		}
	}
	var f fleet
	rows, err := pool.Query(ctx, `SELECT id FROM sources ORDER BY id`)
	if err != nil {
		return f, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return f, err
		}
		f.sourceIDs = append(f.sourceIDs, id)
	}
	return f, rows.Err()
}

// credentials are what the workers send: a bearer token for the API, a signed-in console
// session's cookies for pages.
type credentials struct {
	token   string
	cookies string
}

const benchPassword = "bench-password-long-enough"

// signIn creates an operator with a token, and signs them in through the real /login
// form (CSRF token from the page, session cookie from the answer).
func signIn(ctx context.Context, a *app.App, base string) (credentials, error) {
	cli := auth.WithPrincipal(ctx, auth.CommandLine())
	u, err := a.Auth.CreateUser(cli, auth.UserInput{Email: "bench@bench.internal", Role: string(auth.Operator), Password: benchPassword})
	if err != nil {
		return credentials{}, err
	}
	tok, err := a.Auth.CreateToken(cli, auth.TokenInput{UserID: u.ID, Name: "bench"})
	if err != nil {
		return credentials{}, err
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Get(base + "/login")
	if err != nil {
		return credentials{}, err
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := regexp.MustCompile(`name="csrf-token" content="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		return credentials{}, errors.New("sign in: no csrf-token on /login")
	}
	res, err = c.PostForm(base+"/login", url.Values{"email": {u.Email}, "password": {benchPassword}, "_csrf": {string(m[1])}})
	if err != nil {
		return credentials{}, err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		return credentials{}, fmt.Errorf("sign in: status %d", res.StatusCode)
	}
	bu, _ := url.Parse(base)
	var parts []string
	for _, ck := range jar.Cookies(bu) {
		parts = append(parts, ck.Name+"="+ck.Value)
	}
	return credentials{token: tok.Secret, cookies: strings.Join(parts, "; ")}, nil
}
