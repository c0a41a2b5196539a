package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rosetta-cdc/rosetta/internal/config"
	"github.com/rosetta-cdc/rosetta/internal/db"
	"github.com/rosetta-cdc/rosetta/internal/pgcluster"
)

// EmbeddedDatabase is the database Rosetta keeps its tables in on the embedded cluster.
const EmbeddedDatabase = "rosetta"

// database is an open pool plus whatever must be undone at exit (the embedded
// cluster and the data-directory lock).
type database struct {
	Pool *db.Pool
	// Embedded is the cluster this process started (nil with DATABASE_URL or when
	// sharing another Rosetta's): development's demo source lives on it.
	Embedded *pgcluster.Cluster
	cleanup  []func()
}

func (d *database) Close() {
	for i := len(d.cleanup) - 1; i >= 0; i-- {
		d.cleanup[i]()
	}
}

// ClusterUse says what a command may do with the embedded cluster (used only when
// DATABASE_URL is unset).
type ClusterUse int

const (
	// OwnCluster starts the embedded cluster and holds the data-directory lock: serve,
	// migrate and rotate-key, which must not run beside another Rosetta on it.
	OwnCluster ClusterUse = iota
	// ShareCluster is for short administrative commands (user, token): when a Rosetta
	// is already running on the data directory they use its server instead of refusing,
	// so an operator can add a user while `make run` is up.
	ShareCluster
)

// openDatabase connects to DATABASE_URL, or with none set starts the embedded cluster
// under DATA_DIR (development), creating the rosetta database on first use.
func openDatabase(ctx context.Context, cfg *config.Config, log *slog.Logger, use ClusterUse) (*database, error) {
	d := &database{}
	url := cfg.DatabaseURL
	if url == "" {
		if cfg.IsProduction() {
			return nil, errors.New("DATABASE_URL: is required in production")
		}
		release, err := pgcluster.AcquireLock(filepath.Join(cfg.DataDir, "rosetta.lock"))
		if errors.Is(err, pgcluster.ErrLocked) && use == ShareCluster {
			cl, aerr := pgcluster.Attach(filepath.Join(cfg.DataDir, "pg"), "")
			if aerr == nil {
				log.Debug("using the embedded PostgreSQL of the running Rosetta", "port", cl.Port())
				if err := d.connect(ctx, cfg, cl.URL(EmbeddedDatabase)); err != nil {
					return nil, err
				}
				return d, nil
			}
			err = fmt.Errorf("%w (and its PostgreSQL is not reachable: %w)", err, aerr)
		}
		if err != nil {
			return nil, fmt.Errorf("%w\n(set DATABASE_URL to use another server, or DATA_DIR for a separate embedded cluster)", err)
		}
		d.cleanup = append(d.cleanup, release)
		cl, err := pgcluster.Start(ctx, pgcluster.Options{
			DataDir: filepath.Join(cfg.DataDir, "pg"),
			// logical, so the embedded server can double as a source to try Rosetta on
			Settings: map[string]string{"wal_level": "logical", "max_replication_slots": "10", "max_wal_senders": "10"},
			Logger:   log,
		})
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("embedded PostgreSQL: %w", err)
		}
		d.cleanup = append(d.cleanup, func() {
			sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := cl.Stop(sctx); err != nil {
				log.Error("stop embedded PostgreSQL", "err", err)
			} else {
				log.Info("embedded PostgreSQL stopped")
			}
		})
		if err := EnsureDatabase(ctx, cl.URL("postgres"), EmbeddedDatabase); err != nil {
			d.Close()
			return nil, err
		}
		url = cl.URL(EmbeddedDatabase)
		d.Embedded = cl
		log.Info("using embedded PostgreSQL", "data_dir", cl.DataDir(), "port", cl.Port())
	}
	if err := d.connect(ctx, cfg, url); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

func (d *database) connect(ctx context.Context, cfg *config.Config, url string) error {
	pool, err := db.NewPool(ctx, url, db.PoolOptions{
		MaxConns: cfg.MaxConns(), AcquireTimeout: cfg.DBPoolTimeout.D(), Recycle: cfg.DBPoolRecycle.D(),
	})
	if err != nil {
		return err
	}
	d.Pool = pool
	d.cleanup = append(d.cleanup, pool.Close)
	return nil
}

// EnsureDatabase creates the database name on the server at adminURL unless it exists.
func EnsureDatabase(ctx context.Context, adminURL, name string) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("embedded PostgreSQL: connect: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	return err
}
