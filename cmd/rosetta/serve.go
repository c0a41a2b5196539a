package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"

	"github.com/rosetta-cdc/rosetta/internal/app"
	"github.com/rosetta-cdc/rosetta/internal/config"
	"github.com/rosetta-cdc/rosetta/static"
)

func serve(ctx context.Context, cfg *config.Config, log *slog.Logger) error {
	if err := static.Verify(); err != nil {
		return fmt.Errorf("%w\n(build with `make run` or `make build`, which run `npm ci && npm run assets` first)", err)
	}
	a, err := app.New(ctx, cfg, app.Options{What: app.Everything, Logger: log, Version: version,
		Cluster: app.OwnCluster, Migrate: cfg.MigrateOnStart})
	if err != nil {
		return err
	}
	// HTTPS: set a.HTTP.TLSConfig here (e.g. GetCertificate from a reloader, which is
	// then one more part: a.Add(app.Scheduler, reloader)); Listen and Run do the rest.
	addr, err := a.Listen()
	if err != nil {
		a.Close()
		return err
	}
	scheme := "http"
	if a.HTTP.TLSConfig != nil {
		scheme = "https"
	}
	url := scheme + "://" + displayAddr(addr)
	log.Info("Rosetta is serving", "url", url, "env", cfg.AppEnv, "version", version)
	firstRun(ctx, cfg, a.Auth, url, os.Stderr, log)
	// Run stops every part in order when ctx ends (SIGINT, SIGTERM) and closes the pool.
	return a.Run(ctx)
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
