package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rosetta-cdc/rosetta/internal/config"
	"github.com/rosetta-cdc/rosetta/internal/db"
	"github.com/rosetta-cdc/rosetta/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// journal records, in order, what the parts of a test did.
type journal struct {
	mu    sync.Mutex
	lines []string
}

func (j *journal) add(s string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.lines = append(j.lines, s)
}

func (j *journal) get() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Clone(j.lines)
}

// waiter is a part that runs until stopped and notes when it was.
func waiter(j *journal, name string, started *sync.WaitGroup) Part {
	started.Add(1)
	return PartFunc(name, func(ctx context.Context) error {
		started.Done()
		<-ctx.Done()
		j.add(name)
		return nil
	})
}

// partsOnly is an App with no services, whose "pool" notes when it closes, a journal,
// and a wait group its waiters report starting on.
func partsOnly() (*App, *journal, *sync.WaitGroup) {
	j := &journal{}
	a := &App{Log: quiet(), closers: []func(){func() { j.add("pool") }}}
	return a, j, &sync.WaitGroup{}
}

// TestRunStopsPartsInStageOrder registers parts out of order and checks they stop by
// stage (streams first), each stage only after the previous one returned, and that the
// pool closes after all of them.
func TestRunStopsPartsInStageOrder(t *testing.T) {
	t.Parallel()
	a, j, started := partsOnly()
	a.Add(Listen, waiter(j, "listen", started))
	a.Add(Scheduler, waiter(j, "scheduler", started))
	a.Add(HTTP, waiter(j, "http", started))
	a.Add(Elector, waiter(j, "elector", started))
	a.Add(Streams, waiter(j, "streams", started))

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	started.Wait()
	if got := j.get(); len(got) != 0 {
		t.Fatalf("parts stopped before the App was: %v", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run after a clean stop: %v", err)
	}
	want := []string{"streams", "http", "scheduler", "elector", "listen", "pool"}
	if got := j.get(); !slices.Equal(got, want) {
		t.Errorf("stop order %v, want %v", got, want)
	}
}

// TestRunStopsEverythingWhenAPartFails: one part's error ends the App, in order, and is
// what Run returns.
func TestRunStopsEverythingWhenAPartFails(t *testing.T) {
	t.Parallel()
	a, j, started := partsOnly()
	a.Add(HTTP, waiter(j, "http", started))
	a.Add(Streams, waiter(j, "streams", started))
	boom := errors.New("boom")
	a.Add(Elector, PartFunc("elector", func(context.Context) error {
		started.Wait() // fail once the others run
		return boom
	}))
	err := a.Run(context.Background())
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "elector") {
		t.Errorf("Run = %v, want the elector's error, named", err)
	}
	if got, want := j.get(), []string{"streams", "http", "pool"}; !slices.Equal(got, want) {
		t.Errorf("stop order %v, want %v", got, want)
	}
}

func TestEveryRunsTheJobUntilStopped(t *testing.T) {
	t.Parallel()
	ran := make(chan struct{}, 1)
	p := Every("job", time.Millisecond, func(context.Context) error {
		select {
		case ran <- struct{}{}:
		default:
		}
		return nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	<-ran // it ran at least once
	cancel()
	if err := <-done; err != nil {
		t.Errorf("stopped job: %v", err)
	}
	failing := Every("failing", time.Millisecond, func(context.Context) error { return errors.New("broken") })
	if err := failing.Run(context.Background()); err == nil || err.Error() != "broken" {
		t.Errorf("failing job: %v", err)
	}
}

func testConfig(t *testing.T, env map[string]string) *config.Config {
	t.Helper()
	base := map[string]string{"APP_ENV": "test", "SECRET_KEY": "test-secret-key-0123456789abcdef", "HTTP_ADDR": "127.0.0.1:0"}
	for k, v := range env {
		base[k] = v
	}
	cfg, err := config.LoadFrom(base)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestServeAndStop builds Rosetta as serve does on a real database, serves a request
// over a real socket, and stops cleanly when the context ends.
func TestServeAndStop(t *testing.T) {
	t.Parallel()
	d := testdb.New(t)
	pool := db.Wrap(d.Pool, 5*time.Second)
	a, err := New(context.Background(), testConfig(t, nil), Options{What: Everything, Logger: quiet(), Pool: pool})
	if err != nil {
		t.Fatal(err)
	}
	if a.Box == nil || a.Audit == nil || a.Auth == nil || a.Catalog == nil || a.Server == nil {
		t.Fatalf("a service is missing: %+v", a)
	}
	url, err := a.Listen()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	res, err := http.Get(url + "/health")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("/health: %d", res.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	if _, err := http.Get(url + "/health"); err == nil {
		t.Error("still serving after Run returned")
	}
	// A pool passed in belongs to the caller: still open.
	if err := pool.Ping(context.Background()); err != nil {
		t.Errorf("the caller's pool was closed: %v", err)
	}
}

// TestWhatEachCommandGets: the CLI's commands get no more than they need, and nothing
// they do need is left out.
func TestWhatEachCommandGets(t *testing.T) {
	t.Parallel()
	d := testdb.New(t)
	pool := db.Wrap(d.Pool, 5*time.Second)
	cfg := testConfig(t, map[string]string{"SECRET_KEY": ""})
	a, err := New(context.Background(), cfg, Options{What: Services, Logger: quiet(), Pool: pool})
	if err != nil {
		t.Fatal(err)
	}
	if a.Auth == nil || a.Audit == nil || a.Box != nil || a.Catalog != nil || a.Server != nil {
		t.Errorf("Services built %+v", a)
	}
	if _, err := a.Listen(); err == nil {
		t.Error("Listen without a server")
	}
	if _, err := New(context.Background(), cfg, Options{What: Services, Pool: pool}); err == nil {
		t.Error("New without a logger")
	}
}
