package web_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rosetta-cdc/rosetta/internal/auth"
	"github.com/rosetta-cdc/rosetta/internal/walhub/walhubtest"
	"github.com/rosetta-cdc/rosetta/web/webtest"
)

// sseBenchSubscribers is the budget's fleet of open streams (issue 11).
const sseBenchSubscribers = 1000

// receipt is one subscriber's reception of one sample.
type receipt struct {
	id  int64
	at  time.Time
	err error
}

// BenchmarkSSEFanout measures the live-update budget: 1,000 event streams open on one
// instance (real sockets, each its own TCP connection, half on the console's source
// stream and half on the API's), then one sample at a time stored the way the WAL monitor
// stores it (INSERT and pg_notify in one transaction, through PostgreSQL's NOTIFY, the
// hub's LISTEN connection, the fan-out and each stream's write and flush). Each
// operation is one sample reaching all 1,000 clients. Reported: the p50 and p99 of
// "stored → read by a client" over every (sample, client) pair, the subscribers dropped
// (the hub's count, read from the server's /metrics, plus streams that ended), and the
// server's peak RSS. The server is `rosetta serve` built from this tree and run as its
// own process on the benchmark's database, so its RSS is the server's alone, not the
// clients'.
func BenchmarkSSEFanout(b *testing.B) {
	a := webtest.New(b)
	src := walSource(b, a, "bench")
	viewer := a.NewUser(auth.Viewer)
	// Each API token may burst 100 requests (then 20/s): the streams are opened with 20
	// viewers' tokens, 50 each, as 1,000 clients would not share one.
	var tokens []string
	for range 20 {
		tokens = append(tokens, a.NewUser(auth.Viewer).Token)
	}
	base, server := startServer(b, a)

	// One connection per stream, as 1,000 browsers would have.
	tr := &http.Transport{MaxConnsPerHost: 0, MaxIdleConnsPerHost: -1, DisableCompression: true}
	b.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tr}
	recv := make(chan receipt, sseBenchSubscribers*4)
	var bodies []func() error
	var wg sync.WaitGroup
	for i := range sseBenchSubscribers {
		url := fmt.Sprintf("%s/sources/%d/wal/stream", base, src)
		if i%2 == 1 {
			url = fmt.Sprintf("%s/api/v1/metrics/wal/stream?source_id=%d", base, src)
		}
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tokens[i%len(tokens)])
		resp, err := client.Do(req)
		if err != nil {
			b.Fatalf("open stream %d: %v", i, err)
		}
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("stream %d: status %d", i, resp.StatusCode)
		}
		bodies = append(bodies, resp.Body.Close)
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := bufio.NewReader(resp.Body)
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					recv <- receipt{err: err}
					return
				}
				if v, ok := strings.CutPrefix(line, "id: "); ok {
					now := time.Now()
					id, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
					recv <- receipt{id: id, at: now}
				}
			}
		}()
	}
	b.Cleanup(func() {
		for _, c := range bodies {
			_ = c()
		}
		wg.Wait()
	})
	deadline := time.Now().Add(time.Minute)
	for scrapeSSE(b, base, viewer.Token)["rosetta_sse_subscribers"] < sseBenchSubscribers {
		if time.Now().After(deadline) {
			b.Fatalf("the server does not count %d subscribers", sseBenchSubscribers)
		}
		time.Sleep(50 * time.Millisecond)
	}

	var lat []time.Duration
	ended := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		id := walhubtest.Store(b, a.Pool, src, int64(1<<30+i))[0].ID
		for got := 0; got < sseBenchSubscribers-ended; {
			select {
			case r := <-recv:
				switch {
				case r.err != nil:
					ended++
				case r.id == id:
					lat = append(lat, r.at.Sub(start))
					got++
				default:
					b.Fatalf("a stream delivered sample %d while %d was expected", r.id, id)
				}
			case <-time.After(walhubtest.WaitFor):
				b.Fatalf("sample %d reached %d of %d streams", id, got, sseBenchSubscribers-ended)
			}
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	m := scrapeSSE(b, base, viewer.Token)
	b.ReportMetric(m["rosetta_sse_dropped_clients_total"]+float64(ended), "dropped")
	b.ReportMetric(m["rosetta_sse_subscribers"], "subscribers")
	b.ReportMetric(peakRSSMB(b, server.Process.Pid), "server-peak-rss-MB")
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// rosettaBinary builds cmd/rosetta once per test binary (the benchmark function runs
// several times while the framework sizes b.N).
func rosettaBinary(b *testing.B) string {
	b.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "rosetta-bench-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "rosetta")
		out, err := exec.Command("go", "build", "-o", builtBin, "../cmd/rosetta").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build ./cmd/rosetta: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		b.Fatal(buildErr)
	}
	return builtBin
}

// startServer runs `rosetta serve` on a's database on a free loopback port until the
// benchmark ends, and returns its URL and process.
func startServer(b *testing.B, a *webtest.App) (string, *exec.Cmd) {
	b.Helper()
	bin := rosettaBinary(b)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "APP_ENV=test", "DATABASE_URL="+a.DB.URL, "SECRET_KEY=test-secret-key-0123456789abcdef",
		"HTTP_ADDR="+addr, "WAL_MONITOR_ENABLED=false", "LOG_LEVEL=warn", "MIGRATE_ON_START=false")
	logs := &webtest.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	})
	base := "http://" + addr
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := http.Get(base + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base, cmd
			}
		}
		if time.Now().After(deadline) {
			b.Fatalf("rosetta serve did not come up on %s:\n%s", addr, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// scrapeSSE reads the server's SSE series from /metrics.
func scrapeSSE(b *testing.B, base, token string) map[string]float64 {
	b.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, v, ok := strings.Cut(sc.Text(), " ")
		if ok && strings.HasPrefix(name, "rosetta_sse_") {
			out[name], _ = strconv.ParseFloat(v, 64)
		}
	}
	return out
}

// peakRSSMB is a process's peak resident set (VmHWM), in MiB.
func peakRSSMB(b *testing.B, pid int) float64 {
	b.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb / 1024
		}
	}
	b.Fatal("no VmHWM in /proc/self/status")
	return 0
}
