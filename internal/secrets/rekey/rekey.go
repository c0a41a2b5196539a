// Package rekey re-seals every stored credential under the primary SECRET_KEY
// (`rosetta rotate-key`). It walks each table in batches, one transaction per batch,
// and skips values already under the primary key, so an interrupted rotation is simply
// run again. Running servers keep working throughout as long as they hold both keys
// (SECRET_KEY=new, SECRET_KEY_OLD=old).
package rekey

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/rosetta-cdc/rosetta/internal/db"
	"github.com/rosetta-cdc/rosetta/internal/secrets"
)

// Counts is the outcome for one kind of credential.
type Counts struct {
	Resealed   int // now under the primary key
	Current    int // already were
	Unreadable int // sealed under a key the box does not hold: left untouched
}

// Result is the outcome of a rotation.
type Result struct {
	SourcePasswords        Counts
	DestinationPassphrases Counts
	DestinationKeys        Counts // pasted private keys
}

// Complete reports whether every credential is now under the primary key.
func (r Result) Complete() bool {
	return r.SourcePasswords.Unreadable == 0 && r.DestinationPassphrases.Unreadable == 0 && r.DestinationKeys.Unreadable == 0
}

// DefaultBatch is how many rows one transaction re-seals.
const DefaultBatch = 100

type sealedRow struct {
	id     int64
	sealed []byte
}

// Run re-seals every credential on pool under box's primary key.
func Run(ctx context.Context, pool *db.Pool, box *secrets.Box, batch int) (Result, error) {
	if batch <= 0 {
		batch = DefaultBatch
	}
	var res Result
	var err error
	res.SourcePasswords, err = walk(ctx, pool, box, batch,
		func(q *db.Queries, after int64) ([]sealedRow, error) {
			rows, err := q.SealedSourcePasswordsAfter(ctx, db.SealedSourcePasswordsAfterParams{After: after, Lim: int32(batch)})
			out := make([]sealedRow, len(rows))
			for i, r := range rows {
				out[i] = sealedRow{r.ID, r.PgPassword}
			}
			return out, err
		},
		func(q *db.Queries, id int64, sealed []byte) error {
			return q.SetSourcePassword(ctx, db.SetSourcePasswordParams{ID: id, PgPassword: sealed})
		})
	if err != nil {
		return res, fmt.Errorf("sources: %w", err)
	}
	res.DestinationPassphrases, err = walk(ctx, pool, box, batch,
		func(q *db.Queries, after int64) ([]sealedRow, error) {
			rows, err := q.SealedPassphrasesAfter(ctx, db.SealedPassphrasesAfterParams{After: after, Lim: int32(batch)})
			out := make([]sealedRow, len(rows))
			for i, r := range rows {
				out[i] = sealedRow{r.ID, r.SnowflakePrivateKeyPassphrase}
			}
			return out, err
		},
		func(q *db.Queries, id int64, sealed []byte) error {
			return q.SetDestinationPassphrase(ctx, db.SetDestinationPassphraseParams{ID: id, Passphrase: sealed})
		})
	if err != nil {
		return res, fmt.Errorf("destinations: %w", err)
	}
	res.DestinationKeys, err = walk(ctx, pool, box, batch,
		func(q *db.Queries, after int64) ([]sealedRow, error) {
			rows, err := q.SealedPrivateKeysAfter(ctx, db.SealedPrivateKeysAfterParams{After: after, Lim: int32(batch)})
			out := make([]sealedRow, len(rows))
			for i, r := range rows {
				out[i] = sealedRow{r.ID, r.SnowflakePrivateKey}
			}
			return out, err
		},
		func(q *db.Queries, id int64, sealed []byte) error {
			return q.SetDestinationPrivateKey(ctx, db.SetDestinationPrivateKeyParams{ID: id, PrivateKey: sealed})
		})
	if err != nil {
		return res, fmt.Errorf("destination keys: %w", err)
	}
	return res, nil
}

func walk(ctx context.Context, pool *db.Pool, box *secrets.Box, batch int,
	list func(q *db.Queries, after int64) ([]sealedRow, error),
	set func(q *db.Queries, id int64, sealed []byte) error,
) (Counts, error) {
	var c Counts
	after := int64(0)
	for {
		var n int
		err := pool.InTx(ctx, func(q *db.Queries, _ pgx.Tx) error {
			rows, err := list(q, after)
			if err != nil {
				return err
			}
			n = len(rows)
			var bc Counts
			for _, r := range rows {
				after = r.id
				if box.IsPrimary(r.sealed) {
					bc.Current++
					continue
				}
				plain, err := box.Open(r.sealed)
				if err != nil {
					// Never overwrite what cannot be read: a later run with the right
					// SECRET_KEY_OLD can still rescue it.
					bc.Unreadable++
					continue
				}
				sealed, err := box.Seal(plain)
				if err != nil {
					return err
				}
				if err := set(q, r.id, sealed); err != nil {
					return err
				}
				bc.Resealed++
			}
			c.Resealed += bc.Resealed
			c.Current += bc.Current
			c.Unreadable += bc.Unreadable
			return nil
		})
		if err != nil {
			return c, err
		}
		if n < batch {
			return c, nil
		}
	}
}
