// Package pgcluster runs a private PostgreSQL cluster with initdb and pg_ctl: the embedded
// default behind `make run` and the throwaway servers of the test harness. It listens on
// 127.0.0.1 only (no Unix socket, so no /var/run permissions are involved) and, when the
// caller is root, runs the server as the `postgres` system user because PostgreSQL refuses
// to run as root.
package pgcluster

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options describes a cluster. Only DataDir is required.
type Options struct {
	// DataDir is created by initdb when missing or empty and reused when it holds a
	// cluster. Any other non-empty directory is refused.
	DataDir string
	// Port 0 picks a free 127.0.0.1 port when Start is called; the cluster keeps it
	// across Stop and Cluster.Start so clients can reconnect.
	Port int
	// Superuser defaults to "postgres".
	Superuser string
	// Password of the superuser. When empty, it is read from DataDir+".password"; at the
	// first initdb that file is created (0600) with a random password. It lives beside the
	// data directory, not inside, so it never ends up in a copy of the cluster and a wiped
	// cluster is re-initialised with the password clients already have.
	Password string
	// Settings are passed as -c name=value at every start and so never persist in the
	// cluster. listen_addresses, port and unix_socket_directories are reserved.
	Settings map[string]string
	// LogFile receives the server log; default DataDir+".log".
	LogFile string
	// Logger gets progress lines; nil discards them.
	Logger *slog.Logger
}

// Cluster is a PostgreSQL server this process started. Its methods are safe for
// concurrent use.
type Cluster struct {
	binDir       string
	dataDir      string
	logFile      string
	passwordFile string
	superuser    string
	password     string
	settings     map[string]string
	user         serverUser
	log          *slog.Logger

	mu      sync.Mutex
	port    int
	started bool // ever started: from then on the port is fixed
	running bool
	// release gives up the owner lock (DataDir+".lock"); nil while we do not hold it.
	// Holding it is what makes this process the cluster's owner: a server found running
	// on DataDir while we hold it was left behind by an owner that died (kill -9), since a
	// live owner would still hold the lock.
	release func()
}

const (
	host = "127.0.0.1"

	pgCtlStartTimeout = 60 * time.Second
	pgCtlStopTimeout  = 30 * time.Second
	logTailBytes      = 4096
)

var reservedSettings = []string{"listen_addresses", "port", "unix_socket_directories"}

// errPortInUse marks a start that failed only because someone else bound the port in the
// window between our probe and the server's bind; a freshly picked port fixes it.
var errPortInUse = errors.New("port already in use")

// Start initialises the cluster if DataDir holds none, then starts it and waits until it
// accepts connections. A server already running on DataDir is refused while the process
// that started it is alive; one whose owner died without stopping it (kill -9) is stopped
// cleanly first, so the next start after a crash needs no manual step.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	if opts.DataDir == "" {
		return nil, errors.New("pgcluster: DataDir is required")
	}
	dataDir, err := filepath.Abs(opts.DataDir)
	if err != nil {
		return nil, err
	}
	for k := range opts.Settings {
		if k == "" || strings.ContainsAny(k, "= \t\n'\"") {
			return nil, fmt.Errorf("pgcluster: invalid setting name %q", k)
		}
		if slices.Contains(reservedSettings, k) {
			return nil, fmt.Errorf("pgcluster: setting %s is managed by pgcluster", k)
		}
	}
	if strings.ContainsAny(opts.Password, "\r\n") {
		return nil, errors.New("pgcluster: the superuser password must not contain line breaks")
	}
	c := &Cluster{
		dataDir:      dataDir,
		logFile:      opts.LogFile,
		passwordFile: dataDir + ".password",
		superuser:    opts.Superuser,
		password:     opts.Password,
		settings:     opts.Settings,
		log:          opts.Logger,
		port:         opts.Port,
		started:      opts.Port != 0,
	}
	if c.superuser == "" {
		c.superuser = "postgres"
	}
	if c.logFile == "" {
		c.logFile = dataDir + ".log"
	} else if c.logFile, err = filepath.Abs(c.logFile); err != nil {
		return nil, err
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.binDir, err = binDir(ctx, c.log); err != nil {
		return nil, err
	}
	if c.user, err = currentServerUser(); err != nil {
		return nil, err
	}
	if err := c.own(); err != nil {
		return nil, err
	}
	if err := c.recoverOrphan(ctx); err != nil {
		c.disown()
		return nil, err
	}
	if err := c.prepare(ctx); err != nil {
		c.disown()
		return nil, err
	}
	if err := c.Start(ctx); err != nil {
		c.disown()
		return nil, err
	}
	return c, nil
}

func alreadyRunning(dataDir string, info postmasterInfo, owner string) error {
	where := ""
	if info.port != 0 {
		where = fmt.Sprintf(" on port %d", info.port)
	}
	return fmt.Errorf("a PostgreSQL server (pid %d) is already running%s with data directory %s, "+
		"started by a process that is still alive (%s); stop that process first, or use another data directory",
		info.pid, where, dataDir, owner)
}

// own takes the owner lock unless we hold it. Held by someone else, it means a live
// process runs (or is starting) this cluster, which must be left alone.
func (c *Cluster) own() error {
	if c.release != nil {
		return nil
	}
	release, holder, err := flock(c.dataDir + ".lock")
	if errors.Is(err, ErrLocked) {
		if info, ok := runningPostmaster(c.dataDir); ok {
			return alreadyRunning(c.dataDir, info, holder)
		}
		return fmt.Errorf("data directory %s is in use by another process (%s, lock file %s.lock): %w",
			c.dataDir, holder, c.dataDir, ErrLocked)
	}
	if err != nil {
		return err
	}
	c.release = release
	return nil
}

func (c *Cluster) disown() {
	if c.release != nil {
		c.release()
		c.release = nil
	}
}

// recoverOrphan runs with the owner lock held, so a server running on DataDir has no
// live owner: its owner was killed before it could stop it. It is stopped cleanly (fast
// mode: a checkpoint, nothing committed is lost) rather than adopted, so this start applies
// its own settings and port. A pid file naming a process that is not a server on this
// data directory (a recycled pid) is stale and removed.
func (c *Cluster) recoverOrphan(ctx context.Context) error {
	info, ok := runningPostmaster(c.dataDir)
	if !ok {
		return nil
	}
	switch servesDataDir(info.pid, c.dataDir) {
	case servesOurs:
		c.log.Warn("PostgreSQL was left running by a process that exited without stopping it (killed?); stopping it before starting again",
			"pid", info.pid, "port", info.port, "data_dir", c.dataDir)
		if err := stopDataDir(ctx, c.binDir, c.user, c.dataDir, c.logFile); err != nil {
			return fmt.Errorf("stop the PostgreSQL server left running on %s: %w", c.dataDir, err)
		}
		c.log.Info("stopped the orphaned PostgreSQL", "pid", info.pid)
		return nil
	case servesOther:
		pidFile := filepath.Join(c.dataDir, "postmaster.pid")
		c.log.Warn("postmaster.pid names a process that is not this cluster's server (pid reused); removing the stale file",
			"pid", info.pid, "file", pidFile)
		if err := os.Remove(pidFile); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove stale %s: %w", pidFile, err)
		}
		return nil
	default:
		return fmt.Errorf("%s names a running postgres process (pid %d) that cannot be inspected to tell whether it "+
			"serves this data directory; if it does, stop it (pg_ctl stop -D %s), otherwise remove the file",
			filepath.Join(c.dataDir, "postmaster.pid"), info.pid, c.dataDir)
	}
}

// prepare brings DataDir to "holds a cluster we can start": initdb when it is new, the
// password read back when it is not.
func (c *Cluster) prepare(ctx context.Context) error {
	entries, err := os.ReadDir(c.dataDir)
	switch {
	case errors.Is(err, os.ErrNotExist) || (err == nil && len(entries) == 0):
		if err := c.initdb(ctx); err != nil {
			return err
		}
	case err != nil:
		return fmt.Errorf("read data directory: %w", err)
	default:
		if _, err := os.Stat(filepath.Join(c.dataDir, "PG_VERSION")); err != nil {
			return fmt.Errorf("%s is not empty and holds no PostgreSQL cluster (no PG_VERSION); "+
				"point DataDir at an empty or missing directory", c.dataDir)
		}
		if err := c.user.checkOwner(c.dataDir); err != nil {
			return err
		}
		if c.password == "" {
			b, err := os.ReadFile(c.passwordFile)
			if err != nil {
				return fmt.Errorf("the cluster in %s exists but its superuser password is unknown: "+
					"%s is unreadable (%w); set the password explicitly", c.dataDir, c.passwordFile, err)
			}
			c.password = strings.TrimSpace(string(b))
		}
	}
	if err := c.user.makeTraversable(c.dataDir, c.log); err != nil {
		return err
	}
	return c.prepareLogFile()
}

func (c *Cluster) initdb(ctx context.Context) error {
	c.log.Info("initialising PostgreSQL cluster", "data_dir", c.dataDir)
	if err := os.MkdirAll(filepath.Dir(c.dataDir), 0o755); err != nil {
		return err
	}
	if err := os.Mkdir(c.dataDir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	if err := c.user.chown(c.dataDir); err != nil {
		return fmt.Errorf("hand %s to the postgres user: %w", c.dataDir, err)
	}
	if err := c.user.makeTraversable(c.dataDir, c.log); err != nil {
		return err
	}
	generated := false
	if c.password == "" {
		if b, err := os.ReadFile(c.passwordFile); err == nil && strings.TrimSpace(string(b)) != "" {
			// A wiped data directory is re-initialised with the password clients already have.
			c.password = strings.TrimSpace(string(b))
		} else {
			c.password = randomPassword()
			// Written before initdb so a crash between the two cannot leave a cluster whose
			// password nobody knows.
			if err := os.WriteFile(c.passwordFile, []byte(c.password+"\n"), 0o600); err != nil {
				return fmt.Errorf("save superuser password: %w", err)
			}
			generated = true
		}
	}
	err := c.runInitdb(ctx)
	if err != nil && generated {
		_ = os.Remove(c.passwordFile)
	}
	return err
}

func (c *Cluster) runInitdb(ctx context.Context) error {
	// initdb reads the password from a file so it never appears in a process listing. The
	// persistent password file stays root-only; this copy is for the postgres user.
	pw, err := os.CreateTemp("", "rosetta-initdb-pw-*")
	if err != nil {
		return err
	}
	defer os.Remove(pw.Name())
	_, werr := pw.WriteString(c.password + "\n")
	if cerr := pw.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return werr
	}
	if err := c.user.chown(pw.Name()); err != nil {
		return err
	}
	args := []string{
		"-D", c.dataDir, "-U", c.superuser, "--pwfile=" + pw.Name(),
		"--auth=scram-sha-256", "-E", "UTF8", "--locale=C",
	}
	if isOff(c.settings["fsync"]) {
		// Syncing initdb's files buys nothing for a cluster that will run without fsync,
		// and costs seconds per test binary.
		args = append(args, "--no-sync")
	}
	out, err := c.user.command(ctx, filepath.Join(c.binDir, "initdb"), args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("initdb %s failed: %w\n%s", c.dataDir, err, tail(out, logTailBytes))
	}
	return nil
}

func (c *Cluster) prepareLogFile() error {
	if err := os.MkdirAll(filepath.Dir(c.logFile), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(c.logFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("create server log: %w", err)
	}
	f.Close()
	if err := c.user.chown(c.logFile); err != nil {
		return err
	}
	return c.user.makeTraversable(c.logFile, c.log)
}

// Start (re)starts a stopped cluster on the port it had, so clients reconnect to the same
// address after a simulated outage. Starting a running cluster is a no-op.
func (c *Cluster) Start(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := runningPostmaster(c.dataDir); ok && c.running {
		return nil
	}
	if err := c.own(); err != nil {
		return err
	}
	if err := c.recoverOrphan(ctx); err != nil {
		return err
	}
	for attempt := 1; ; attempt++ {
		if !c.started {
			port, err := freePort()
			if err != nil {
				return err
			}
			c.port = port
		}
		err := c.pgCtlStart(ctx)
		if err == nil {
			c.started, c.running = true, true
			c.log.Info("PostgreSQL started", "addr", net.JoinHostPort(host, strconv.Itoa(c.port)),
				"data_dir", c.dataDir, "log", c.logFile)
			return nil
		}
		if c.started || attempt == 3 || !errors.Is(err, errPortInUse) {
			return err
		}
	}
}

func (c *Cluster) pgCtlStart(ctx context.Context) error {
	var logStart int64
	if st, err := os.Stat(c.logFile); err == nil {
		logStart = st.Size()
	}
	args := []string{"start", "-D", c.dataDir, "-l", c.logFile, "-w", "-s",
		"-t", strconv.Itoa(int(pgCtlStartTimeout / time.Second)), "-o", c.serverOptions()}
	cmd := c.user.command(ctx, filepath.Join(c.binDir, "pg_ctl"), args...)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err == nil {
		return nil
	}
	serverLog := readFrom(c.logFile, logStart, logTailBytes)
	// A timed-out or cancelled start can leave a postmaster behind that nobody will stop.
	if _, ok := runningPostmaster(c.dataDir); ok {
		_ = c.stopPostmaster(context.WithoutCancel(ctx))
	}
	startErr := fmt.Errorf("start PostgreSQL on %s:%d (data directory %s): %w", host, c.port, c.dataDir, err)
	if strings.Contains(serverLog, "could not bind") || strings.Contains(serverLog, "Address already in use") {
		startErr = fmt.Errorf("%w (%w)", startErr, errPortInUse)
	}
	if s := strings.TrimSpace(string(out)); s != "" {
		startErr = fmt.Errorf("%w\npg_ctl: %s", startErr, s)
	}
	return fmt.Errorf("%w\n--- server log %s ---\n%s", startErr, c.logFile, serverLog)
}

// serverOptions is the -o argument of pg_ctl. pg_ctl hands it to /bin/sh, so every
// argument is single-quoted.
func (c *Cluster) serverOptions() string {
	keys := make([]string, 0, len(c.settings))
	for k := range c.settings {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "-c %s ", shellQuote(k+"="+c.settings[k]))
	}
	fmt.Fprintf(&b, "-c %s -c %s -c %s",
		shellQuote("listen_addresses="+host), shellQuote("port="+strconv.Itoa(c.port)),
		shellQuote("unix_socket_directories="))
	return b.String()
}

// Stop shuts the server down (fast mode: sessions are disconnected, then a checkpoint),
// falling back to immediate mode if that does not finish. It ignores ctx's cancellation on
// purpose: it runs on Ctrl-C and in test cleanup, when contexts are already done, and a
// server left running is worse than a slow exit. Stopping a stopped cluster is a no-op.
func (c *Cluster) Stop(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, wasUp := runningPostmaster(c.dataDir)
	if err := c.stopPostmaster(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	c.running = false
	c.disown()
	if wasUp {
		c.log.Info("PostgreSQL stopped", "data_dir", c.dataDir)
	}
	return nil
}

// Restart stops and starts the cluster on the same port.
func (c *Cluster) Restart(ctx context.Context) error {
	if err := c.Stop(ctx); err != nil {
		return err
	}
	return c.Start(ctx)
}

// Destroy stops the cluster and deletes its data directory, log and password files.
func (c *Cluster) Destroy(ctx context.Context) error {
	if err := c.Stop(ctx); err != nil {
		return err
	}
	return errors.Join(
		os.RemoveAll(c.dataDir),
		ignoreNotExist(os.Remove(c.dataDir+".lock")),
		ignoreNotExist(os.Remove(c.logFile)),
		ignoreNotExist(os.Remove(c.passwordFile)),
	)
}

func (c *Cluster) stopPostmaster(ctx context.Context) error {
	return stopDataDir(ctx, c.binDir, c.user, c.dataDir, c.logFile)
}

// StopDataDir stops whatever server runs on dataDir, immediately (no checkpoint). It is for
// clusters whose owner is gone, such as those left by a killed test binary.
func StopDataDir(ctx context.Context, dataDir string) error {
	bin, err := binDir(ctx, slog.Default())
	if err != nil {
		return err
	}
	u, err := currentServerUser()
	if err != nil {
		return err
	}
	if _, ok := runningPostmaster(dataDir); !ok {
		return nil
	}
	return runPgCtlStop(ctx, bin, u, dataDir, "immediate")
}

func stopDataDir(ctx context.Context, bin string, u serverUser, dataDir, logFile string) error {
	if _, ok := runningPostmaster(dataDir); !ok {
		return nil
	}
	fastErr := runPgCtlStop(ctx, bin, u, dataDir, "fast")
	if fastErr == nil {
		return nil
	}
	if _, ok := runningPostmaster(dataDir); !ok {
		return nil
	}
	immErr := runPgCtlStop(ctx, bin, u, dataDir, "immediate")
	if _, ok := runningPostmaster(dataDir); !ok {
		return nil
	}
	return fmt.Errorf("stop PostgreSQL (data directory %s): %w\n--- server log %s ---\n%s",
		dataDir, errors.Join(fastErr, immErr), logFile, readTail(logFile, logTailBytes))
}

func runPgCtlStop(ctx context.Context, bin string, u serverUser, dataDir, mode string) error {
	ctx, cancel := context.WithTimeout(ctx, pgCtlStopTimeout+10*time.Second)
	defer cancel()
	cmd := u.command(ctx, filepath.Join(bin, "pg_ctl"), "stop", "-D", dataDir, "-m", mode, "-w", "-s",
		"-t", strconv.Itoa(int(pgCtlStopTimeout/time.Second)))
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl stop -m %s: %w: %s", mode, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Host is the address the server listens on (always IPv4 loopback).
func (c *Cluster) Host() string { return host }

// Port is the TCP port, fixed after the first successful start.
func (c *Cluster) Port() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.port
}

func (c *Cluster) Superuser() string { return c.superuser }
func (c *Cluster) Password() string  { return c.password }
func (c *Cluster) DataDir() string   { return c.dataDir }
func (c *Cluster) LogFile() string   { return c.logFile }

// Running reports whether the server is up (as far as this process started it).
func (c *Cluster) Running() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, alive := runningPostmaster(c.dataDir)
	return c.running && alive
}

// URL is a superuser connection URL for database. TLS is off: the server has no
// certificate and only listens on loopback.
func (c *Cluster) URL(database string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(c.superuser, c.password),
		Host:     net.JoinHostPort(host, strconv.Itoa(c.Port())),
		Path:     "/" + database,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// LogTail returns the last few kilobytes of the server log, for error reports.
func (c *Cluster) LogTail() string { return readTail(c.logFile, logTailBytes) }

func freePort() (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomPassword() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func isOff(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "off", "false", "no", "0":
		return true
	}
	return false
}

func ignoreNotExist(err error) error {
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

func readTail(path string, limit int) string {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Sprintf("(server log unreadable: %v)", err)
	}
	return readFrom(path, max(0, st.Size()-int64(limit)), limit)
}

// readFrom returns what was appended to path since offset, at most the last limit bytes.
func readFrom(path string, offset int64, limit int) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(server log unreadable: %v)", err)
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return fmt.Sprintf("(server log unreadable: %v)", err)
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return fmt.Sprintf("(server log unreadable: %v)", err)
	}
	if len(b) == 0 {
		return "(server log is empty)"
	}
	return tail(b, limit)
}

// ErrNotRunning is returned by Attach when no server runs on the data directory.
var ErrNotRunning = errors.New("no PostgreSQL server is running on this data directory")

// Attach describes a server that another process started on dataDir (a running
// `rosetta serve`), so a short command such as `rosetta user create` can use it instead of
// refusing. The caller does not own it: Stop, Restart and Destroy must not be called.
func Attach(dataDir, superuser string) (*Cluster, error) {
	dataDir, err := filepath.Abs(dataDir)
	if err != nil {
		return nil, err
	}
	info, ok := runningPostmaster(dataDir)
	if !ok || info.port == 0 {
		return nil, fmt.Errorf("%s: %w", dataDir, ErrNotRunning)
	}
	b, err := os.ReadFile(dataDir + ".password")
	if err != nil {
		return nil, fmt.Errorf("the server on %s is running but its password file is unreadable: %w", dataDir, err)
	}
	if superuser == "" {
		superuser = "postgres"
	}
	return &Cluster{
		dataDir: dataDir, logFile: dataDir + ".log", passwordFile: dataDir + ".password",
		superuser: superuser, password: strings.TrimSpace(string(b)),
		log: slog.New(slog.DiscardHandler), port: info.port, started: true, running: true,
	}, nil
}
