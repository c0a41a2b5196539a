// Package demo gives a newcomer something to watch on the first `make run`: in
// development, with the embedded cluster and no sources yet, the embedded cluster
// registers itself as a source (a small rosetta_demo database with a table, a
// publication and a logical slot) and a goroutine writes a little traffic, so WAL grows
// and the dashboard and chart move within the first minute.
//
// Rosetta never creates slots or publications on an operator's server (an unconsumed
// slot retains WAL until the disk fills). The demo is the one exception, on the private
// cluster `make run` owns, and Traffic keeps its slot from retaining more than a few
// megabytes by advancing it.
package demo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rosetta-cdc/rosetta/internal/apperr"
	"github.com/rosetta-cdc/rosetta/internal/auth"
	"github.com/rosetta-cdc/rosetta/internal/catalog"
)

// Options say where the demo lives. Only ClusterURL (and Catalog, for Ensure) are
// required; the names default to the rosetta_demo set.
type Options struct {
	// ClusterURL is a superuser URL of the embedded cluster (any database on it).
	ClusterURL string
	// Catalog registers the source (Ensure only), sealed and audited like any other.
	Catalog *catalog.Service
	Logger  *slog.Logger

	SourceName  string // "demo"
	Database    string // "rosetta_demo"
	Role        string // "rosetta_demo"
	Publication string // "rosetta_demo_pub"
	Slot        string // "rosetta_demo_slot"

	// Interval between Traffic's writes (default 5 s) and Rows written each time
	// (default 3): enough for the WAL chart to climb visibly, far too little to matter.
	Interval time.Duration
	Rows     int
	// RetainLimit is the WAL the demo slot may retain before Traffic advances it to the
	// current position (default 16 MiB, one WAL segment).
	RetainLimit int64
}

// MonitorInterval is the WAL monitor's interval where the demo runs (development on the
// embedded cluster) unless WAL_MONITOR_INTERVAL_SECONDS says otherwise: with the
// documented default of 300 s a newcomer would wait five minutes for a second point on
// the chart; every 10 s, the dashboard and the chart move within the first minute.
const MonitorInterval = 10 * time.Second

// Actor is who the audit log says registered the demo source.
const Actor = "system:demo"

const (
	defaultInterval    = 5 * time.Second
	defaultRows        = 3
	defaultRetainLimit = 16 << 20
	// keepRows bounds the demo table: Traffic deletes older rows.
	keepRows = 1000
)

func (o Options) withDefaults() Options {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&o.SourceName, "demo")
	def(&o.Database, "rosetta_demo")
	def(&o.Role, "rosetta_demo")
	def(&o.Publication, "rosetta_demo_pub")
	def(&o.Slot, "rosetta_demo_slot")
	if o.Interval <= 0 {
		o.Interval = defaultInterval
	}
	if o.Rows <= 0 {
		o.Rows = defaultRows
	}
	if o.RetainLimit <= 0 {
		o.RetainLimit = defaultRetainLimit
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// connConfig parses ClusterURL for database db ("" keeps the URL's).
func (o Options) connConfig(db string) (*pgx.ConnConfig, error) {
	cfg, err := pgx.ParseConfig(o.ClusterURL)
	if err != nil {
		// pgx's message can quote the URL, password included
		return nil, errors.New("demo: cannot parse the cluster URL")
	}
	if db != "" {
		cfg.Database = db
	}
	return cfg, nil
}

// Ensure registers the demo source when the catalog has no source at all, creating
// what it needs on the cluster. When the demo source is already registered but the
// embedded cluster came up on another port (it picks a free one at every start), it
// points the source at the new port. Otherwise it does nothing. It returns the source
// it created or repointed, or nil.
func Ensure(ctx context.Context, o Options) (*catalog.Source, error) {
	o = o.withDefaults()
	if o.Catalog == nil {
		return nil, errors.New("demo: no catalog")
	}
	ctx = auth.WithPrincipal(ctx, auth.Principal{Email: Actor, Role: auth.Admin})
	adminCfg, err := o.connConfig("")
	if err != nil {
		return nil, err
	}
	port := int(adminCfg.Port)
	existing, total, err := o.findDemo(ctx)
	if err != nil {
		return nil, err
	}
	if existing != nil {
		if existing.PgHost == adminCfg.Host && existing.PgPort == port {
			return nil, nil
		}
		// A new endpoint goes with its password, so rotate it along with the move.
		password, err := o.prepare(ctx, adminCfg)
		if err != nil {
			return nil, err
		}
		src, err := o.Catalog.UpdateSource(ctx, existing.ID, catalog.SourcePatch{PgHost: &adminCfg.Host, PgPort: &port, PgPassword: &password})
		if err != nil {
			return nil, fmt.Errorf("demo: point the source at the embedded cluster's port: %w", err)
		}
		o.Logger.Info("pointed the demo source at the embedded PostgreSQL's new port", "source", src.Name, "port", port)
		return &src, nil
	}
	if total > 0 {
		return nil, nil
	}
	password, err := o.prepare(ctx, adminCfg)
	if err != nil {
		return nil, err
	}
	src, err := o.Catalog.CreateSource(ctx, catalog.SourceInput{
		Name: o.SourceName, PgHost: adminCfg.Host, PgPort: &port, PgDatabase: o.Database,
		PgUsername: o.Role, PgPassword: password, PublicationName: o.Publication, ReplicationID: o.Slot,
	})
	if apperr.CodeOf(err) == apperr.Conflict {
		// another instance on the same data registered it a moment ago
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("demo: register the source: %w", err)
	}
	o.Logger.Info("registered the embedded PostgreSQL as the demo source (development only)",
		"source", src.Name, "database", o.Database, "slot", o.Slot)
	return &src, nil
}

// findDemo returns the registered demo source (recognised by its loopback host,
// database and role, since an operator may rename it) and how many sources exist.
// Development catalogs are small; the pages are read to the end all the same.
func (o Options) findDemo(ctx context.Context) (*catalog.Source, int64, error) {
	p := catalog.ListParams{Limit: catalog.MaxLimit}
	for {
		page, err := o.Catalog.ListSources(ctx, p)
		if err != nil {
			return nil, 0, fmt.Errorf("demo: list sources: %w", err)
		}
		for _, s := range page.Items {
			if isLoopback(s.PgHost) && s.PgDatabase == o.Database && s.PgUsername == o.Role {
				return &s, page.Total, nil
			}
		}
		p.Offset += len(page.Items)
		if len(page.Items) == 0 || int64(p.Offset) >= page.Total {
			return nil, page.Total, nil
		}
	}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// prepare creates (or repairs) the role, database, table, publication and slot, and
// returns the role's new password. The password is rotated on every call: the previous
// one is sealed in a catalog that no longer holds the source, so nobody knows it.
func (o Options) prepare(ctx context.Context, adminCfg *pgx.ConnConfig) (string, error) {
	admin, err := pgx.ConnectConfig(ctx, adminCfg)
	if err != nil {
		return "", fmt.Errorf("demo: connect to the embedded cluster: %w", err)
	}
	defer admin.Close(context.Background())

	password, err := randomPassword()
	if err != nil {
		return "", err
	}
	role := ident(o.Role)
	var exists bool
	if err := admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)`, o.Role).Scan(&exists); err != nil {
		return "", fmt.Errorf("demo: look up the role: %w", err)
	}
	// REPLICATION is what a real pipeline's role needs (the catalog checks it). The
	// password is hex, so quoting it in the literal is safe; DDL takes no parameters.
	verb := "CREATE"
	if exists {
		verb = "ALTER"
	}
	if _, err := admin.Exec(ctx, fmt.Sprintf("%s ROLE %s LOGIN REPLICATION PASSWORD '%s'", verb, role, password)); err != nil {
		return "", fmt.Errorf("demo: %s the role: %w", verb, err)
	}
	if err := admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, o.Database).Scan(&exists); err != nil {
		return "", fmt.Errorf("demo: look up the database: %w", err)
	}
	if !exists {
		if _, err := admin.Exec(ctx, "CREATE DATABASE "+ident(o.Database)+" OWNER "+role); err != nil {
			return "", fmt.Errorf("demo: create the database: %w", err)
		}
	}

	// The table, publication and slot belong to the demo database: a logical slot is
	// bound to the database of the session that creates it.
	dbCfg, err := o.connConfig(o.Database)
	if err != nil {
		return "", err
	}
	conn, err := pgx.ConnectConfig(ctx, dbCfg)
	if err != nil {
		return "", fmt.Errorf("demo: connect to the demo database: %w", err)
	}
	defer conn.Close(context.Background())
	stmts := []string{
		`CREATE TABLE IF NOT EXISTS public.demo_events (
			id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
			kind text NOT NULL,
			amount numeric(10,2) NOT NULL,
			created_at timestamptz NOT NULL DEFAULT now())`,
		"ALTER TABLE public.demo_events OWNER TO " + role,
	}
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			return "", fmt.Errorf("demo: create the table: %w", err)
		}
	}
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = $1)`, o.Publication).Scan(&exists); err != nil {
		return "", fmt.Errorf("demo: look up the publication: %w", err)
	}
	if !exists {
		if _, err := conn.Exec(ctx, "CREATE PUBLICATION "+ident(o.Publication)+" FOR TABLE public.demo_events"); err != nil {
			return "", fmt.Errorf("demo: create the publication: %w", err)
		}
	}
	var plugin, slotDB *string
	err = conn.QueryRow(ctx, `SELECT plugin, database FROM pg_replication_slots WHERE slot_name = $1`, o.Slot).Scan(&plugin, &slotDB)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		if _, err := conn.Exec(ctx, `SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, o.Slot); err != nil {
			return "", fmt.Errorf("demo: create the replication slot: %w", err)
		}
	case err != nil:
		return "", fmt.Errorf("demo: look up the replication slot: %w", err)
	case plugin == nil || *plugin != "pgoutput" || slotDB == nil || *slotDB != o.Database:
		return "", fmt.Errorf("demo: a replication slot named %s already exists and is not a pgoutput slot of %s; drop it or remove the demo database", o.Slot, o.Database)
	}
	return password, nil
}

// Traffic writes a few rows every Interval until ctx ends, so the demo source's WAL
// grows, and advances the demo slot whenever it retains more than RetainLimit. It
// returns nil when the demo database does not exist or stops existing (an operator
// dropped it, or Ensure never created it because real sources came first); other
// failures are logged once and retried every interval.
//
// Why advance the slot rather than cap the cluster with max_slot_wal_keep_size: the
// slot retains the whole cluster's WAL, Rosetta's own writes included, and nothing
// consumes it. A cap would eventually mark the slot lost, which would show a newcomer a
// broken source; advancing keeps it healthy and the retention chart a gentle sawtooth.
func Traffic(ctx context.Context, o Options) error {
	o = o.withDefaults()
	cfg, err := pgxpool.ParseConfig(o.ClusterURL)
	if err != nil {
		return errors.New("demo: cannot parse the cluster URL")
	}
	cfg.ConnConfig.Database = o.Database
	cfg.MaxConns = 1
	cfg.ConnConfig.RuntimeParams["application_name"] = "rosetta-demo-traffic"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer pool.Close()
	t := time.NewTicker(o.Interval)
	defer t.Stop()
	started, failing := false, false
	for {
		err := o.tick(ctx, pool)
		switch {
		case ctx.Err() != nil:
			return nil
		case noDatabase(err):
			if started {
				o.Logger.Info("demo traffic: the demo database is gone; stopping", "database", o.Database)
			}
			return nil
		case err != nil && !failing:
			o.Logger.Warn("demo traffic failed (retrying every interval)", "err", err)
			failing = true
		case err == nil && !started:
			o.Logger.Info("demo traffic: writing a few rows every interval to the demo database", "interval", o.Interval, "database", o.Database)
			started, failing = true, false
		case err == nil && failing:
			o.Logger.Info("demo traffic resumed")
			failing = false
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (o Options) tick(ctx context.Context, pool *pgxpool.Pool) error {
	if _, err := pool.Exec(ctx, `INSERT INTO public.demo_events (kind, amount)
		SELECT (ARRAY['order', 'payment', 'refund'])[1 + floor(random() * 3)::int], round((random() * 100)::numeric, 2)
		FROM generate_series(1, $1)`, o.Rows); err != nil {
		return fmt.Errorf("insert: %w", err)
	}
	if _, err := pool.Exec(ctx, `DELETE FROM public.demo_events WHERE id <= (SELECT max(id) FROM public.demo_events) - $1`, keepRows); err != nil {
		return fmt.Errorf("trim: %w", err)
	}
	var retained *int64
	var active bool
	err := pool.QueryRow(ctx, `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint, active
		FROM pg_replication_slots WHERE slot_name = $1 AND database = current_database()`, o.Slot).Scan(&retained, &active)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // no demo slot (dropped by hand): nothing retains WAL on our behalf
	}
	if err != nil {
		return fmt.Errorf("read the slot: %w", err)
	}
	// An active slot has a consumer that advances it; advancing it here would fail.
	if active || retained == nil || *retained <= o.RetainLimit {
		return nil
	}
	if _, err := pool.Exec(ctx, `SELECT pg_replication_slot_advance($1, pg_current_wal_lsn())`, o.Slot); err != nil {
		return fmt.Errorf("advance the slot: %w", err)
	}
	o.Logger.Debug("demo traffic: advanced the demo slot", "slot", o.Slot, "retained_bytes", *retained)
	return nil
}

// noDatabase: the demo database does not exist (invalid_catalog_name), e.g. an operator
// dropped it.
func noDatabase(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "3D000"
}

func randomPassword() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

func ident(s string) string { return pgx.Identifier{s}.Sanitize() }
