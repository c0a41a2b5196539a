// Package walhubtest helps tests of live WAL updates: store samples the way the WAL
// monitor does (with pg_notify in the writing transaction) and run a hub for a test.
package walhubtest

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/db"
	"github.com/rosetta-cdc/rosetta/internal/walhub"
)

// WaitFor is how long a test waits for something that happens in milliseconds; a hang
// fails the test instead of blocking the suite.
const WaitFor = 20 * time.Second

// Store writes samples the way the WAL monitor does: inserted and announced with
// pg_notify in one transaction, through pool. Each sample retains half its size.
func Store(t testing.TB, pool *db.Pool, sourceID int64, sizes ...int64) []catalog.WALSample {
	t.Helper()
	return StoreAt(t, pool, sourceID, time.Now(), sizes...)
}

// StoreAt is Store with the samples' time.
func StoreAt(t testing.TB, pool *db.Pool, sourceID int64, at time.Time, sizes ...int64) []catalog.WALSample {
	t.Helper()
	ctx := context.Background()
	var out []catalog.WALSample
	err := pool.InTx(ctx, func(q *db.Queries, _ pgx.Tx) error {
		out = nil
		if _, err := q.EnsureWALPartitions(ctx, db.EnsureWALPartitionsParams{FromAt: at, ToAt: at}); err != nil {
			return err
		}
		var payloads []string
		for _, sz := range sizes {
			retained := sz / 2
			active, status := true, "reserved"
			row, err := q.InsertWALMetric(ctx, db.InsertWALMetricParams{SourceID: sourceID, SizeBytes: sz,
				RetainedBytes: &retained, SlotActive: &active, WalStatus: &status, RecordedAt: at})
			if err != nil {
				return err
			}
			s := walhub.FromRow(row)
			b, err := json.Marshal(s)
			if err != nil {
				return err
			}
			payloads = append(payloads, string(b))
			out = append(out, s)
		}
		return q.NotifyWALSamples(ctx, payloads)
	})
	if err != nil {
		t.Fatalf("store samples: %v", err)
	}
	return out
}

// Start runs a hub until the test ends and waits for its LISTEN connection.
func Start(t testing.TB, pool *db.Pool, o walhub.Options) *walhub.Hub {
	t.Helper()
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	h := walhub.New(pool, o)
	Run(t, h)
	return h
}

// Run runs h until the test ends and waits for its LISTEN connection.
func Run(t testing.TB, h *walhub.Hub) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("hub Run: %v", err)
		}
	})
	WaitConnected(t, h, 1)
}

// WaitConnected waits until the hub's LISTEN connection is up, caught up, and was
// established at least connects times.
func WaitConnected(t testing.TB, h *walhub.Hub, connects int64) {
	t.Helper()
	deadline := time.Now().Add(WaitFor)
	for !h.Connected() || h.Connects() < connects {
		if time.Now().After(deadline) {
			t.Fatalf("the hub did not connect (connects=%d)", h.Connects())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// IDs are the samples' ids.
func IDs(ss []catalog.WALSample) []int64 {
	out := make([]int64, len(ss))
	for i, s := range ss {
		out[i] = s.ID
	}
	return out
}
