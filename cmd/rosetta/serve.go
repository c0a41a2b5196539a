package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"

	"github.com/rosetta-cdc/rosetta/internal/app"
	"github.com/rosetta-cdc/rosetta/internal/config"
	"github.com/rosetta-cdc/rosetta/static"
)

// serveGCPercent is the server's GOGC unless the environment sets one. Its live heap is
// small (a few MB), so at Go's default of 100 the collector ran every few hundred API
// requests: 5 % of the single read's CPU went to collecting (issue 12). At 200 it is
// half that; the heap may grow to three times the live data between collections
// instead of twice, a few MB, and the idle footprint is unchanged (27.6 MB).
const serveGCPercent = 200

// tuneGC sets serveGCPercent unless GOGC has a value (the runtime has read it then; an
// empty GOGC, as from GOGC=${GOGC} templating, it treats as unset, and so do we).
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(serveGCPercent)
	}
}

func serve(ctx context.Context, cfg *config.Config, log *slog.Logger) error {
	tuneGC()
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
