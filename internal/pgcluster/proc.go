package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// serverUser is who initdb and postgres run as. PostgreSQL refuses to run as root, so a
// root process hands the server to the `postgres` system account; anyone else runs it as
// themselves.
type serverUser struct {
	cred *syscall.Credential // nil: run as the current user
	name string
}

func currentServerUser() (serverUser, error) {
	if os.Geteuid() != 0 {
		return serverUser{name: "the current user"}, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return serverUser{}, fmt.Errorf("running as root, PostgreSQL must run as the `postgres` system user, "+
			"but it does not exist (%w): create it (useradd --system postgres) or run Rosetta as an ordinary user", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return serverUser{}, fmt.Errorf("user postgres has a non-numeric uid/gid (%s/%s)", u.Uid, u.Gid)
	}
	return serverUser{
		name: "postgres",
		// Groups is set so the server does not inherit root's supplementary groups.
		cred: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{uint32(gid)}},
	}, nil
}

func (u serverUser) command(ctx context.Context, bin string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = serverEnv()
	// The caller's working directory may be unreadable for the postgres user (e.g. /root),
	// which makes initdb and pg_ctl complain; / is always fine.
	cmd.Dir = "/"
	if u.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: u.cred}
	}
	return cmd
}

// serverEnv drops PG* variables (PGDATA, PGPORT, PGOPTIONS… would silently change which
// cluster pg_ctl acts on or how it starts) and pins the C locale so the messages we match
// in the server log are English.
func serverEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG") || strings.HasPrefix(kv, "LC_") || strings.HasPrefix(kv, "LANG") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "LC_ALL=C", "LANG=C")
}

// chown hands path to the server user; a no-op when we are not root.
func (u serverUser) chown(path string) error {
	if u.cred == nil {
		return nil
	}
	return os.Chown(path, int(u.cred.Uid), int(u.cred.Gid))
}

// checkOwner reports a data directory the server user could not use. PostgreSQL checks
// this too, but only deep inside a failed start; saying it up front names the fix.
func (u serverUser) checkOwner(dataDir string) error {
	if u.cred == nil {
		return nil
	}
	st, err := os.Stat(dataDir)
	if err != nil {
		return err
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && sys.Uid != u.cred.Uid {
		return fmt.Errorf("data directory %s is owned by uid %d, but the server runs as postgres (uid %d): "+
			"chown -R postgres: %s", dataDir, sys.Uid, u.cred.Uid, dataDir)
	}
	return nil
}

// makeTraversable adds o+x to every ancestor of path that the server user could not
// enter: os.MkdirTemp and t.TempDir create 0700 directories owned by root, and the server
// (running as postgres) must reach its data directory and log file through them. Only the
// search bit is added, never read, so directory listings stay private.
func (u serverUser) makeTraversable(path string, log *slog.Logger) error {
	if u.cred == nil {
		return nil
	}
	for dir := filepath.Dir(path); ; dir = filepath.Dir(dir) {
		st, err := os.Stat(dir)
		if err != nil {
			return err
		}
		if !u.canSearch(st) {
			if err := os.Chmod(dir, st.Mode().Perm()|0o001); err != nil {
				return fmt.Errorf("make %s traversable for the postgres user: %w", dir, err)
			}
			log.Debug("made directory traversable for the postgres user", "dir", dir)
		}
		if parent := filepath.Dir(dir); parent == dir {
			return nil
		}
	}
}

func (u serverUser) canSearch(st fs.FileInfo) bool {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return true
	}
	mode := st.Mode().Perm()
	switch {
	case sys.Uid == u.cred.Uid:
		return mode&0o100 != 0
	case sys.Gid == u.cred.Gid:
		return mode&0o010 != 0
	default:
		return mode&0o001 != 0
	}
}

// processAlive reports whether pid names a live process. EPERM means it exists but
// belongs to someone else, which still counts as alive.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// postmasterInfo is what postmaster.pid says about a server using a data directory.
type postmasterInfo struct {
	pid  int
	port int
}

// runningPostmaster returns the live server recorded in dataDir/postmaster.pid, if any. A
// stale file (crash, reboot) is not reported: postgres removes it itself on the next start.
func runningPostmaster(dataDir string) (postmasterInfo, bool) {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return postmasterInfo{}, false
	}
	lines := strings.Split(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(lines[0]))
	if err != nil || !processAlive(pid) {
		return postmasterInfo{}, false
	}
	// After a reboot the recorded pid may belong to an unrelated process; on Linux we can
	// tell, elsewhere we err on the side of "running" and let pg_ctl sort it out.
	if comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); err == nil &&
		!strings.HasPrefix(strings.TrimSpace(string(comm)), "postgres") {
		return postmasterInfo{}, false
	}
	// A postmaster killed with SIGKILL leaves its pid file behind, and its zombie answers
	// kill(pid, 0) until init reaps it.
	if isZombie(pid) {
		return postmasterInfo{}, false
	}
	info := postmasterInfo{pid: pid}
	if len(lines) > 3 {
		info.port, _ = strconv.Atoi(strings.TrimSpace(lines[3]))
	}
	return info, true
}

// isZombie reports a process that has exited but not been reaped (Linux only; false
// elsewhere). A container's pid 1 does not always reap the orphans it inherits.
func isZombie(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(stat), ')')
	return i >= 0 && strings.HasPrefix(string(stat[i:]), ") Z")
}

// serves is servesDataDir's answer.
type serves int

const (
	servesUnknown serves = iota // cannot tell (no /proc, or not allowed to look)
	servesOurs
	servesOther
)

// servesDataDir tells whether the postgres process pid runs on dataDir, so that a pid
// recycled by an unrelated server (after a reboot, say) is never stopped in our name. The
// postmaster changes into its data directory at start, so its working directory names it;
// reading that needs ptrace rights, which a container's root may lack, so the -D argument
// of its command line (world-readable; pg_ctl always passes -D) is the fallback.
func servesDataDir(pid int, dataDir string) serves {
	want := canonicalPath(dataDir)
	if cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid)); err == nil {
		if canonicalPath(cwd) == want {
			return servesOurs
		}
		return servesOther
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || len(b) == 0 {
		return servesUnknown
	}
	args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
	for i, a := range args {
		dir := ""
		switch {
		case a == "-D" && i+1 < len(args):
			dir = args[i+1]
		case strings.HasPrefix(a, "-D") && len(a) > 2:
			dir = a[2:]
		default:
			continue
		}
		if canonicalPath(dir) == want {
			return servesOurs
		}
		return servesOther
	}
	return servesUnknown
}

// canonicalPath resolves symlinks where it can, so /tmp/x and its real path compare equal.
func canonicalPath(p string) string {
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	if real, err := filepath.EvalSymlinks(p); err == nil {
		return real
	}
	return filepath.Clean(p)
}
