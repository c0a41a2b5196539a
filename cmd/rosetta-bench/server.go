package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// buildBinary builds `rosetta` as it ships (CGO_ENABLED=0, -trimpath) into dir: the
// server the load runs against and the footprint figures both use it.
func buildBinary(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "rosetta")
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", bin, "./cmd/rosetta")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("go build with CGO_ENABLED=0: %w", err)
	}
	return bin, nil
}

// server is `rosetta serve` running as its own process: its own runtime, scheduler and
// GC, so the load client's work is not counted as the server's, as with wrk.
type server struct {
	cmd       *exec.Cmd
	base      string // http://host:port
	addr      string // host:port
	pprofAddr string // "" unless profiling
}

// startServer runs bin with args (`serve`; the bare reference server's subcommand) and
// env plus a free loopback HTTP_ADDR (and PPROF_ADDR when pprof is set) and waits for
// readiness.
func startServer(ctx context.Context, bin string, args, env []string, pprof, verbose bool) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	s := &server{addr: addr, base: "http://" + addr}
	env = append(env, "HTTP_ADDR="+addr)
	if pprof {
		if s.pprofAddr, err = freeAddr(); err != nil {
			return nil, err
		}
		env = append(env, "PPROF_ADDR="+s.pprofAddr)
	}
	s.cmd = exec.CommandContext(ctx, bin, args...)
	s.cmd.Env = env
	// Request log lines are written as in production; to /dev/null unless -v.
	if verbose {
		s.cmd.Stdout, s.cmd.Stderr = os.Stderr, os.Stderr
	}
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	if err := waitReady(ctx, s.base+"/api/v1/health", 30*time.Second); err != nil {
		s.stop()
		return nil, fmt.Errorf("%s %s did not become ready: %w", filepath.Base(bin), strings.Join(args, " "), err)
	}
	return s, nil
}

func (s *server) pid() int { return s.cmd.Process.Pid }

func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	_ = s.cmd.Wait()
}

// profile fetches a CPU profile of the server for d (Go's /debug/pprof/profile) into
// path; call it while the load runs.
func (s *server) profile(ctx context.Context, d time.Duration, path string) error {
	url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", s.pprofAddr, int(d.Round(time.Second).Seconds()))
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("pprof: status %d", res.StatusCode)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, res.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
