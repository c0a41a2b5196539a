package main

import (
	"bufio"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rosetta-cdc/rosetta/internal/app"
	"github.com/rosetta-cdc/rosetta/internal/pgcluster"
)

// footprint takes the real binary (built with CGO_ENABLED=0), checks it is static, starts it
// against a database of its own on the bench cluster (so PostgreSQL is already up, as the
// budget states), and measures start-up to ready and the idle RSS.
func footprint(ctx context.Context, work, bin string, cl *pgcluster.Cluster, progress func(string, ...any)) ([]row, error) {
	static, err := isStatic(bin)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(bin)
	if err != nil {
		return nil, err
	}
	if err := app.EnsureDatabase(ctx, cl.URL("postgres"), "rosetta_footprint"); err != nil {
		return nil, err
	}
	env := []string{
		"APP_ENV=development", "DATABASE_URL=" + cl.URL("rosetta_footprint"), "DATA_DIR=" + filepath.Join(work, "footprint"),
		"SECRET_KEY=bench-secret-key-0123456789abcdef", "LOG_LEVEL=warn", "PATH=" + os.Getenv("PATH"), "HOME=" + work,
	}
	// The first start applies the migrations; the second is the one measured: an
	// instance restarting (or scaling out) onto a database that is up and current.
	for attempt := range 2 {
		addr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		start := time.Now()
		cmd := exec.CommandContext(ctx, bin, "serve")
		cmd.Env = append(env, "HTTP_ADDR="+addr)
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		stop := func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			_ = cmd.Wait()
		}
		base := "http://" + addr
		if err := waitReady(ctx, base+"/api/v1/health", 30*time.Second); err != nil {
			stop()
			return nil, fmt.Errorf("the binary did not become ready: %w", err)
		}
		ready := time.Since(start)
		if attempt == 0 {
			stop()
			continue
		}
		assets, aerr := checkAssets(ctx, base)
		// Idle: a few seconds after start-up with nothing asking anything.
		time.Sleep(3 * time.Second)
		rss, err := vmRSS(cmd.Process.Pid)
		stop()
		if err != nil {
			return nil, err
		}
		if aerr != nil {
			return nil, aerr
		}
		progress("footprint: ready in %s, idle RSS %.1f MB, %d assets served", ready.Round(time.Millisecond), rss, assets)
		pass := func(b bool) *bool { return &b }
		return []row{
			{what: "idle RSS of `rosetta serve` (VmRSS, 3 s after ready)", value: fmt.Sprintf("%.1f MB", rss), budget: "< 40 MB", pass: pass(rss < 40)},
			{what: "start-up to ready (`/api/v1/health` 200, database up)", value: ready.Round(time.Millisecond).String(), budget: "< 1 s", pass: pass(ready < time.Second)},
			{what: "one static binary, every asset embedded", value: fmt.Sprintf("CGO_ENABLED=0, static=%v, %.1f MB, %d assets served from the binary", static, float64(fi.Size())/1e6, assets),
				budget: "static, assets embedded", pass: pass(static && assets > 0)},
		}, nil
	}
	return nil, errors.New("unreachable")
}

// isStatic reports whether an ELF binary has no program interpreter (no dynamic loader).
func isStatic(path string) (bool, error) {
	f, err := elf.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			return false, nil
		}
	}
	return true, nil
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func waitReady(ctx context.Context, url string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	var last string
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("status %d: %s", res.StatusCode, b)
		} else {
			last = err.Error()
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		time.Sleep(5 * time.Millisecond)
	}
	return errors.New(last)
}

var assetRef = regexp.MustCompile(`(?:href|src)="(/static/[^"]+)"`)

// checkAssets loads the sign-in page and every /static/ asset it references, from the
// binary alone (it runs from a temporary directory, away from the source tree).
func checkAssets(ctx context.Context, base string) (int, error) {
	get := func(path string) ([]byte, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err == nil && res.StatusCode != http.StatusOK {
			err = fmt.Errorf("%s: status %d", path, res.StatusCode)
		}
		return b, err
	}
	page, err := get("/login")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, m := range assetRef.FindAllSubmatch(page, -1) {
		if _, err := get(string(m[1])); err != nil {
			return n, fmt.Errorf("embedded asset: %w", err)
		}
		n++
	}
	return n, nil
}

// vmRSS is the resident set of pid in MB, from /proc/<pid>/status.
func vmRSS(pid int) (float64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			if err != nil {
				return 0, err
			}
			return kb / 1024, nil
		}
	}
	return 0, errors.New("no VmRSS in /proc status")
}
