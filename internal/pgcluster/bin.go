package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// serverTools are the binaries a private cluster needs; a directory lacking any of them is
// not a server installation (Debian's client-only package ships psql but not initdb).
var serverTools = []string{"initdb", "pg_ctl", "postgres"}

// installMu keeps concurrent callers from running apt-get twice over the same dpkg lock.
var installMu sync.Mutex

// BinDir finds the directory holding initdb, pg_ctl and postgres: $PG_BIN, then the
// highest /usr/lib/postgresql/*/bin, then $PATH. When none is found and we are root on a
// Debian-like system, it installs the `postgresql` package and looks again.
func BinDir() (string, error) {
	return binDir(context.Background(), slog.Default())
}

func binDir(ctx context.Context, log *slog.Logger) (string, error) {
	if dir, err := findBinDir(); err == nil || os.Getenv("PG_BIN") != "" {
		// An explicit PG_BIN that is wrong is the operator's mistake to fix, not a
		// reason to install packages behind their back.
		return dir, err
	}
	installMu.Lock()
	defer installMu.Unlock()
	if dir, err := findBinDir(); err == nil {
		return dir, nil
	}
	aptGet, aptErr := exec.LookPath("apt-get")
	if os.Geteuid() != 0 || aptErr != nil {
		return "", errors.New("PostgreSQL server binaries (initdb, pg_ctl, postgres) not found: " +
			"install them (e.g. sudo apt-get install postgresql) or set PG_BIN to their directory")
	}
	log.Info("PostgreSQL server binaries not found; installing Debian's postgresql package (apt-get)")
	if err := aptInstall(ctx, aptGet); err != nil {
		return "", err
	}
	return findBinDir()
}

func aptInstall(ctx context.Context, aptGet string) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Minute)
	defer cancel()
	env := append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	for _, args := range [][]string{
		{"update", "-q"},
		{"install", "-y", "-q", "--no-install-recommends", "postgresql"},
	} {
		cmd := exec.CommandContext(ctx, aptGet, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("apt-get %s failed (%w); install PostgreSQL server binaries yourself "+
				"(apt-get install postgresql) or set PG_BIN:\n%s", args[0], err, tail(out, 2048))
		}
	}
	return nil
}

func findBinDir() (string, error) {
	if dir := os.Getenv("PG_BIN"); dir != "" {
		if err := hasServerTools(dir); err != nil {
			return "", fmt.Errorf("PG_BIN=%s: %w", dir, err)
		}
		return dir, nil
	}
	if dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin"); len(dirs) > 0 {
		sort.Slice(dirs, func(i, j int) bool {
			return versionLess(filepath.Base(filepath.Dir(dirs[i])), filepath.Base(filepath.Dir(dirs[j])))
		})
		for i := len(dirs) - 1; i >= 0; i-- {
			if hasServerTools(dirs[i]) == nil {
				return dirs[i], nil
			}
		}
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		dir := filepath.Dir(p)
		if hasServerTools(dir) == nil {
			return dir, nil
		}
	}
	return "", errors.New("PostgreSQL server binaries (initdb, pg_ctl, postgres) not found")
}

func hasServerTools(dir string) error {
	for _, name := range serverTools {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			return fmt.Errorf("%s not found in %s", name, dir)
		}
		if st.IsDir() || st.Mode()&0o111 == 0 {
			return fmt.Errorf("%s in %s is not executable", name, dir)
		}
	}
	return nil
}

// versionLess orders Debian's version directories numerically, so 9.6 < 10 < 15 < 16
// (a string sort would pick 9.6 as the newest).
func versionLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		na, errA := strconv.Atoi(pa[i])
		nb, errB := strconv.Atoi(pb[i])
		if errA != nil || errB != nil {
			if pa[i] != pb[i] {
				return pa[i] < pb[i]
			}
			continue
		}
		if na != nb {
			return na < nb
		}
	}
	return len(pa) < len(pb)
}

// tail returns at most the last limit bytes of b, cut at a line start when possible.
func tail(b []byte, limit int) string {
	if len(b) > limit {
		b = b[len(b)-limit:]
		if i := strings.IndexByte(string(b), '\n'); i >= 0 && i < len(b)-1 {
			b = b[i+1:]
		}
	}
	return strings.TrimRight(string(b), "\n")
}
