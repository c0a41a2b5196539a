package pgcluster

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// helperEnv switches the test binary into the helper process: it plays a `make run` that
// owns a cluster, to be killed with SIGKILL by the test.
const helperEnv = "PGCLUSTER_TEST_HELPER_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(helperEnv); dir != "" {
		os.Exit(runHelper(dir))
	}
	os.Exit(m.Run())
}

// runHelper does what `rosetta serve` does with the embedded cluster (the Rosetta lock,
// then Start), writes a row, reports "ready <postmaster pid>" and waits to be killed.
func runHelper(dir string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := AcquireLock(filepath.Join(dir, "rosetta.lock")); err != nil {
		fmt.Println("error", err)
		return 1
	}
	c, err := Start(ctx, Options{DataDir: filepath.Join(dir, "pg"), Settings: lightSettings})
	if err != nil {
		fmt.Println("error", strings.ReplaceAll(err.Error(), "\n", " "))
		return 1
	}
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err == nil {
		_, err = conn.Exec(ctx, "CREATE TABLE survivor (v text); INSERT INTO survivor VALUES ('still here')")
		conn.Close(ctx)
	}
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	info, _ := runningPostmaster(c.DataDir())
	fmt.Println("ready", info.pid)
	select {}
}

// startHelper runs the helper and waits until its cluster is up; it returns the helper
// and the pid of the postmaster it started.
func startHelper(t *testing.T, dir string) (*exec.Cmd, int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = StopDataDir(context.Background(), filepath.Join(dir, "pg"))
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("helper ended before its cluster was up: %v", err)
	}
	f := strings.Fields(line)
	if len(f) != 2 || f[0] != "ready" {
		t.Fatalf("helper: %s", line)
	}
	pid, err := strconv.Atoi(f[1])
	if err != nil || pid <= 0 {
		t.Fatalf("helper reported postmaster pid %q", f[1])
	}
	return cmd, pid
}

// After kill -9 of the process that owns the cluster, the postmaster lives on; the next
// start must stop it and come up on the same data, while a start beside a live owner must
// still refuse.
func TestStartRecoversClusterOrphanedByKill9(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "pg")
	helper, orphanPID := startHelper(t, dir)

	// The owner is alive: both the Rosetta lock and the cluster refuse a second start.
	if _, err := AcquireLock(filepath.Join(dir, "rosetta.lock")); !errors.Is(err, ErrLocked) {
		t.Fatalf("Rosetta lock beside a live owner: err = %v, want ErrLocked", err)
	}
	_, err := Start(ctx, Options{DataDir: dataDir, Settings: lightSettings})
	if err == nil || !strings.Contains(err.Error(), "already running") ||
		!strings.Contains(err.Error(), fmt.Sprintf("pid %d", helper.Process.Pid)) {
		t.Fatalf("Start beside a live owner: err = %v, want 'already running' naming pid %d", err, helper.Process.Pid)
	}
	if info, ok := runningPostmaster(dataDir); !ok || info.pid != orphanPID {
		t.Fatalf("the refused start disturbed the owner's server: %+v %v", info, ok)
	}

	if err := helper.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = helper.Wait()
	// The precondition of the bug: the owner is dead, its postmaster is not.
	if info, ok := runningPostmaster(dataDir); !ok || info.pid != orphanPID {
		t.Fatalf("no orphaned postmaster after kill -9 of its owner (%+v %v): the test proves nothing", info, ok)
	}

	release, err := AcquireLock(filepath.Join(dir, "rosetta.lock"))
	if err != nil {
		t.Fatalf("the dead owner's Rosetta lock was not cleared: %v", err)
	}
	defer release()
	if b, _ := os.ReadFile(filepath.Join(dir, "rosetta.lock")); strings.TrimSpace(string(b)) != strconv.Itoa(os.Getpid()) {
		t.Errorf("lock file names %q, want our pid %d", b, os.Getpid())
	}

	c := startTest(t, Options{DataDir: dataDir, Settings: lightSettings})
	assertSurvivor(ctx, t, c)
	if processAlive(orphanPID) && !isZombie(orphanPID) {
		if info, ok := runningPostmaster(dataDir); ok && info.pid == orphanPID {
			t.Fatalf("the orphaned postmaster %d was adopted instead of stopped", orphanPID)
		}
		t.Fatalf("the orphaned postmaster %d is still alive", orphanPID)
	}
	if info, ok := runningPostmaster(dataDir); !ok || info.pid == orphanPID {
		t.Fatalf("postmaster after recovery: %+v %v", info, ok)
	}
}

// A pid file whose pid now belongs to a postgres on another data directory (a pid reused
// after a reboot) is stale: Start removes it and goes on, leaving the other server alone.
func TestStartIgnoresPidFileOfAnotherServer(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	other := startTest(t, Options{DataDir: filepath.Join(t.TempDir(), "other"), Settings: lightSettings})
	otherInfo, ok := runningPostmaster(other.DataDir())
	if !ok {
		t.Fatal("other cluster has no postmaster")
	}

	dataDir := filepath.Join(t.TempDir(), "pg")
	c := startTest(t, Options{DataDir: dataDir, Settings: lightSettings})
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	// Forge the crash-and-reuse: our pid file names the other server's postmaster.
	pidFile := filepath.Join(dataDir, "postmaster.pid")
	forged := fmt.Sprintf("%d\n%s\n0\n%d\n", otherInfo.pid, dataDir, c.Port())
	if err := os.WriteFile(pidFile, []byte(forged), 0o600); err != nil {
		t.Fatal(err)
	}
	if servesDataDir(otherInfo.pid, dataDir) != servesOther || servesDataDir(otherInfo.pid, other.DataDir()) != servesOurs {
		t.Fatal("servesDataDir cannot tell the two data directories apart")
	}
	if err := c.Start(ctx); err != nil {
		t.Fatalf("start over a stale pid file: %v", err)
	}
	if info, ok := runningPostmaster(other.DataDir()); !ok || info.pid != otherInfo.pid {
		t.Fatal("the other server was stopped")
	}
	conn := connect(ctx, t, c)
	if err := conn.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}
