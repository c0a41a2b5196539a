package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"
)

// Part is a long-lived piece of Rosetta: it runs until its context is cancelled, then
// cleans up and returns. An error it returns while running stops the whole App.
type Part interface {
	Name() string
	Run(ctx context.Context) error
}

// Stage places a part in the stop order. Run stops the stages one after another, in the
// order below, each after the previous one has returned; the pool closes last of all:
//
//  1. Streams: server-sent event hubs end their streams, so that
//  2. HTTP's graceful shutdown is not held up by connections that never finish; it
//     stops accepting and lets in-flight requests complete (SHUTDOWN_TIMEOUT). A hub
//     must answer a stream opened in between with an immediate end, since HTTP still
//     accepts until its own stage.
//  3. Scheduler: periodic jobs (the WAL monitor's cycle, the access purge) stop once no
//     request can start new work, finishing the round they are in.
//  4. Elector: leadership is released only after the jobs that needed it stopped, so a
//     successor never runs a cycle beside ours.
//  5. Listen: the LISTEN connection that feeds the hubs goes after its consumers.
//  6. The pool (Close), which every part above may use until it returns.
//
// Parts of one stage stop together. All parts start at once: none may assume another
// is already running.
type Stage int

const (
	Streams Stage = iota
	HTTP
	Scheduler
	Elector
	Listen
)

func (s Stage) String() string {
	return [...]string{"streams", "HTTP", "scheduler", "elector", "LISTEN"}[s]
}

type staged struct {
	stage Stage
	part  Part
}

// Add registers a part for Run: one line per part, e.g.
//
//	a.Add(app.Elector, walmon.NewElector(a.Pool))
func (a *App) Add(stage Stage, p Part) { a.parts = append(a.parts, staged{stage, p}) }

// Run runs every registered part until ctx is cancelled or one of them fails, then
// stops them in Stage order and closes the App. It returns the first part's error;
// a clean stop returns nil.
func (a *App) Run(ctx context.Context) error {
	defer a.Close()
	parts := slices.Clone(a.parts)
	slices.SortStableFunc(parts, func(x, y staged) int { return int(x.stage) - int(y.stage) })

	// Each part gets a context of its own, detached from ctx's cancellation (its values
	// stay), so that the stopper below decides when each one stops.
	type running struct {
		staged
		stop func()
		done chan struct{}
	}
	g, failed := errgroup.WithContext(ctx)
	rs := make([]running, len(parts))
	for i, p := range parts {
		pctx, stop := context.WithCancel(context.WithoutCancel(ctx))
		rs[i] = running{staged: p, stop: stop, done: make(chan struct{})}
		g.Go(func() error {
			defer close(rs[i].done)
			defer stop()
			if err := p.part.Run(pctx); err != nil {
				return fmt.Errorf("%s: %w", p.part.Name(), err)
			}
			return nil
		})
	}
	g.Go(func() error {
		<-failed.Done() // ctx cancelled, or a part failed
		for i := 0; i < len(rs); {
			j := i
			for j < len(rs) && rs[j].stage == rs[i].stage {
				rs[j].stop()
				j++
			}
			for _, r := range rs[i:j] {
				<-r.done
				a.Log.Debug("stopped", "stage", r.stage.String(), "part", r.part.Name())
			}
			i = j
		}
		return nil
	})
	return g.Wait()
}

// PartFunc makes a Part of a function.
func PartFunc(name string, run func(ctx context.Context) error) Part { return funcPart{name, run} }

type funcPart struct {
	name string
	run  func(context.Context) error
}

func (f funcPart) Name() string                  { return f.name }
func (f funcPart) Run(ctx context.Context) error { return f.run(ctx) }

// Every is a part that calls job every interval (not at start) until stopped; a round
// in progress finishes first. job's error stops the App: a job that can fail and
// recover should log and return nil.
func Every(name string, interval time.Duration, job func(ctx context.Context) error) Part {
	return PartFunc(name, func(ctx context.Context) error {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
				if err := job(ctx); err != nil {
					return err
				}
			}
		}
	})
}

// httpPart serves on ln (a TLS listener for HTTPS) until stopped, then shuts down
// gracefully within timeout.
type httpPart struct {
	name    string // "HTTP server" when empty
	srv     *http.Server
	ln      net.Listener
	timeout time.Duration
	log     *slog.Logger
}

func (p *httpPart) Name() string {
	if p.name != "" {
		return p.name
	}
	return "HTTP server"
}

func (p *httpPart) Run(ctx context.Context) error {
	served := make(chan error, 1)
	go func() { served <- p.srv.Serve(p.ln) }()
	select {
	case err := <-served:
		return err // the listener failed: never ErrServerClosed, nothing called Shutdown
	case <-ctx.Done():
	}
	p.log.Info("shutting down: finishing in-flight requests", "part", p.Name())
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.timeout)
	defer cancel()
	err := p.srv.Shutdown(sctx)
	<-served // ErrServerClosed, once Shutdown has closed the listener
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		p.log.Warn("shutdown did not finish in time", "err", err)
	}
	return nil
}
