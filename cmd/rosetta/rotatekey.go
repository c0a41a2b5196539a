package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/rosetta-cdc/rosetta/internal/app"
	"github.com/rosetta-cdc/rosetta/internal/config"
	"github.com/rosetta-cdc/rosetta/internal/secrets/rekey"
)

// rotateKey re-seals every stored credential under SECRET_KEY, reading the old ones
// with SECRET_KEY_OLD. It may be interrupted and run again: values already under the
// new key are skipped. Run servers with both variables set until it reports complete,
// then drop SECRET_KEY_OLD.
func rotateKey(ctx context.Context, cfg *config.Config, log *slog.Logger, stdout io.Writer) error {
	if cfg.SecretKey == "" || cfg.SecretKeyOld == "" {
		return errors.New("rotate-key: set SECRET_KEY to the new key and SECRET_KEY_OLD to the current one")
	}
	if cfg.SecretKey == cfg.SecretKeyOld {
		return errors.New("rotate-key: SECRET_KEY and SECRET_KEY_OLD are the same key")
	}
	// The app's box seals under SECRET_KEY and still opens what SECRET_KEY_OLD sealed.
	a, err := app.New(ctx, cfg, app.Options{What: app.Secrets, Logger: log, Version: version,
		Cluster: app.OwnCluster, Migrate: cfg.MigrateOnStart})
	if err != nil {
		return err
	}
	defer a.Close()
	res, err := rekey.Run(ctx, a.Pool, a.Box, rekey.DefaultBatch)
	report := func(what string, c rekey.Counts) {
		fmt.Fprintf(stdout, "%-26s %d re-sealed, %d already under the new key, %d unreadable\n", what+":", c.Resealed, c.Current, c.Unreadable)
	}
	report("source passwords", res.SourcePasswords)
	report("destination passphrases", res.DestinationPassphrases)
	report("destination private keys", res.DestinationKeys)
	if err != nil {
		return fmt.Errorf("rotate-key stopped (run it again to resume): %w", err)
	}
	if !res.Complete() {
		return errors.New("rotate-key: some credentials are sealed under a key that is neither SECRET_KEY nor SECRET_KEY_OLD; they were left untouched")
	}
	fmt.Fprintf(stdout, "every credential is sealed under the new key (id %s): SECRET_KEY_OLD may now be removed\n", a.Box.KeyID())
	return nil
}
