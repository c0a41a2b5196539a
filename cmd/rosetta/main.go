// Command rosetta is the control plane's single binary: `rosetta serve` (the default)
// runs the console and API; `rosetta migrate` manages the schema. Commands and flags
// only: internal/app builds and runs everything, and every rule lives in internal/.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"gopkg.in/natefinch/lumberjack.v2"

	"github.com/rosetta-cdc/rosetta/internal/config"
	"github.com/rosetta-cdc/rosetta/internal/logs"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `Usage: rosetta <command> [arguments]

Commands:
  serve                 run the console and the JSON API (default)
  migrate up|down|status  apply, roll back one, or list schema migrations
  user create|list|disable|enable|set-role|set-password
                        manage who may sign in (rosetta user, for details)
  token create|list|revoke
                        manage API tokens (rosetta token, for details)
  rotate-key            re-seal stored credentials under SECRET_KEY, reading them
                        with SECRET_KEY_OLD
  version               print the version

Configuration comes from the environment; see .env.example.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "rosetta:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, version)
		return nil
	case "help", "--help", "-h":
		fmt.Fprint(stdout, usage)
		return nil
	}
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	log, closeLog, err := newLogger(cfg, stderr)
	if err != nil {
		return err
	}
	defer closeLog()
	switch cmd {
	case "serve":
		return serve(ctx, cfg, log)
	case "migrate":
		return migrate(ctx, cfg, log, args, stdout)
	case "user":
		return userCmd(ctx, cfg, log, args, stdin, stdout, stderr)
	case "token":
		return tokenCmd(ctx, cfg, log, args, stdout, stderr)
	case "rotate-key":
		return rotateKey(ctx, cfg, log, stdout)
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

// newLogger writes to stderr and, with LOG_FILE, also to a file rotated at 10 MB with 5
// old files kept (lumberjack does the rotation; writing our own would race on rename).
func newLogger(cfg *config.Config, stderr io.Writer) (*slog.Logger, func(), error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		return nil, nil, fmt.Errorf("LOG_LEVEL: %w", err)
	}
	if cfg.Debug && level > slog.LevelDebug {
		level = slog.LevelDebug
	}
	w, closer := stderr, func() {}
	if cfg.LogFile != "" {
		lj := &lumberjack.Logger{Filename: cfg.LogFile, MaxSize: 10, MaxBackups: 5}
		w, closer = io.MultiWriter(stderr, lj), func() { lj.Close() }
	}
	// Secrets (password, token, …) are blanked whoever logs them (logs.New).
	l := logs.New(w, logs.Options{Level: level, JSON: cfg.LogFormat == "json"})
	slog.SetDefault(l)
	return l, closer, nil
}

var errUsage = errors.New("usage: rosetta migrate up|down|status")
