package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/rosetta-cdc/rosetta/internal/audit"
	"github.com/rosetta-cdc/rosetta/internal/auth"
	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/config"
	"github.com/rosetta-cdc/rosetta/internal/db"
	"github.com/rosetta-cdc/rosetta/internal/secrets"
	"github.com/rosetta-cdc/rosetta/internal/tlsfiles"
	"github.com/rosetta-cdc/rosetta/static"
	"github.com/rosetta-cdc/rosetta/web"
)

func serve(ctx context.Context, cfg *config.Config, log *slog.Logger) error {
	if err := static.Verify(); err != nil {
		return fmt.Errorf("%w\n(build with `make run` or `make build`, which run `npm ci && npm run assets` first)", err)
	}
	if err := cfg.EnsureDevSecret(); err != nil {
		return err
	}
	if cfg.SecretKeyGenerated {
		log.Warn("SECRET_KEY not set: generated one for development and stored it in DATA_DIR", "data_dir", cfg.DataDir)
	}
	box, err := secrets.NewBox(cfg.SecretKey, cfg.SecretKeyOld)
	if err != nil {
		return fmt.Errorf("SECRET_KEY: %w", err)
	}
	d, err := openDatabase(ctx, cfg, log, ownCluster)
	if err != nil {
		return err
	}
	defer d.Close()
	if cfg.MigrateOnStart {
		if err := db.MigrateUp(ctx, d.Pool.Pool); err != nil {
			return err
		}
	}
	// Every change is audited in its own transaction (internal/audit).
	cat := catalog.New(d.Pool, box, catalog.WithAudit(audit.ForCatalog()))
	authSvc := auth.New(d.Pool, auth.WithAudit(audit.ForAuth()))
	srv := web.New(web.Deps{Config: cfg, Logger: log, Pool: d.Pool, Catalog: cat, Version: version,
		Auth: authSvc, Audit: audit.New(d.Pool)})

	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("HTTP_ADDR %s: %w", cfg.HTTPAddr, err)
	}
	// HTTPS itself when TLS_CERT_FILE/TLS_KEY_FILE are set, picking up renewed files.
	ln, scheme, err := tlsfiles.Wrap(ln, cfg.TLSCertFile, cfg.TLSKeyFile, log)
	if err != nil {
		return err
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		// No WriteTimeout: server-sent event streams stay open; handlers bound their
		// own work with contexts instead.
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("Rosetta is serving", "url", scheme+"://"+displayAddr(ln.Addr()), "env", cfg.AppEnv, "version", version)
	firstRun(ctx, cfg, authSvc, scheme+"://"+displayAddr(ln.Addr()), os.Stderr, log)
	go purgeAccess(ctx, authSvc, log)

	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout.D())
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("shutdown did not finish in time", "err", err)
	}
	return nil
}

// displayAddr shows a wildcard listener as localhost, the address a person can click.
func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || tcp.IP.IsUnspecified() {
		if ok {
			return fmt.Sprintf("localhost:%d", tcp.Port)
		}
		return a.String()
	}
	return a.String()
}

// purgeAccess deletes expired sessions and old failed sign-ins every ten minutes. Every
// instance runs it; the deletes are idempotent, so no leader is needed.
func purgeAccess(ctx context.Context, svc *auth.Service, log *slog.Logger) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if s, f, err := svc.Purge(ctx); err != nil {
				log.Warn("purge expired sessions", "err", err)
			} else if s+f > 0 {
				log.Debug("purged expired sessions and sign-in failures", "sessions", s, "failures", f)
			}
		}
	}
}
