package main

import (
	"context"
	"fmt"
	"log/slog"
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
	url, err := a.Listen()
	if err != nil {
		a.Close()
		return err
	}
	log.Info("Rosetta is serving", "url", url, "env", cfg.AppEnv, "version", version)
	firstRun(ctx, cfg, a.Auth, url, os.Stderr, log)
	// Run stops every part in order when ctx ends (SIGINT, SIGTERM) and closes the pool.
	return a.Run(ctx)
}
