package testdb

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// clockTick is Linux's USER_HZ, the unit of /proc/<pid>/stat's CPU times: 100 on every
// architecture Go supports there (the kernel exports it as a constant, not a setting).
const clockTick = 10 * time.Millisecond

// ServerCPU is the CPU time the shared test server has spent so far: the postmaster's own
// and that of every backend it has forked and reaped (a backend's CPU is counted once it
// exits). Benchmarks read it before and after a run to report the server's CPU per
// operation, which, unlike wall time, does not depend on what else the machine is doing.
// ok is false when the server is not a local cluster this binary started
// (TEST_DATABASE_URL) or /proc cannot be read.
func ServerCPU(t testing.TB) (cpu time.Duration, ok bool) {
	t.Helper()
	s := mustServer(t)
	if s.cluster == nil {
		return 0, false
	}
	cpu, err := clusterCPU(s.cluster.DataDir())
	if err != nil {
		t.Logf("testdb: server CPU not available: %v", err)
		return 0, false
	}
	return cpu, true
}

func clusterCPU(dataDir string) (time.Duration, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return 0, err
	}
	pid, _, _ := strings.Cut(string(b), "\n")
	stat, err := os.ReadFile(filepath.Join("/proc", strings.TrimSpace(pid), "stat"))
	if err != nil {
		return 0, err
	}
	// The command name is in parentheses and may hold spaces: fields are counted after it.
	i := strings.LastIndexByte(string(stat), ')')
	if i < 0 {
		return 0, fmt.Errorf("unexpected /proc stat format")
	}
	f := strings.Fields(string(stat[i+1:]))
	// f[0] is field 3 (state); utime, stime, cutime, cstime are fields 14 to 17.
	if len(f) < 15 {
		return 0, fmt.Errorf("unexpected /proc stat format")
	}
	var ticks int64
	for _, s := range f[11:15] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("unexpected /proc stat format: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * clockTick, nil
}

// ClusterDataDir is the data directory of the throwaway cluster this test binary started.
// ok is false when TEST_DATABASE_URL names the server instead: that server's files are
// not the tests' to touch, and a benchmark that would change its configuration (the
// walmon floor's pg_hba.conf line) checks this first.
func ClusterDataDir(t testing.TB) (dir string, ok bool) {
	t.Helper()
	s := mustServer(t)
	if s.cluster == nil {
		return "", false
	}
	return s.cluster.DataDir(), true
}
