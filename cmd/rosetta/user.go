package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/rosetta-cdc/rosetta/internal/app"
	"github.com/rosetta-cdc/rosetta/internal/apperr"
	"github.com/rosetta-cdc/rosetta/internal/auth"
	"github.com/rosetta-cdc/rosetta/internal/config"
)

const userUsage = `Usage:
  rosetta user create --email E --role admin|operator|viewer
        the password is read from standard input (first line), or prompted for
        twice when standard input is a terminal; it is never an argument
  rosetta user list
  rosetta user disable --email E
  rosetta user enable --email E
  rosetta user set-role --email E --role R
  rosetta user set-password --email E     (password as for create)
`

// openAuth builds what the user and token commands need, as serve builds it, on a
// database migrated with MIGRATE_ON_START (the default) so `rosetta user create` works
// on a fresh one; they may use a running Rosetta's embedded cluster. It returns the
// auth service, a context acting as the command line (audited as cli:<os user>), and
// what to call when done.
func openAuth(ctx context.Context, cfg *config.Config, log *slog.Logger) (context.Context, *auth.Service, func(), error) {
	a, err := app.New(ctx, cfg, app.Options{What: app.Services, Logger: log, Version: version,
		Cluster: app.ShareCluster, Migrate: cfg.MigrateOnStart})
	if err != nil {
		return ctx, nil, nil, err
	}
	return auth.WithPrincipal(ctx, auth.CommandLine()), a.Auth, a.Close, nil
}

// subcommand splits `rosetta user create --email …` into the subcommand, a flag set
// named after it that reports to stderr, and the arguments left for it to parse.
func subcommand(group, usage string, args []string, stderr io.Writer) (string, *flag.FlagSet, []string, error) {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return "", nil, nil, fmt.Errorf("missing %s subcommand", group)
	}
	fs := flag.NewFlagSet(group+" "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	return args[0], fs, args[1:], nil
}

// describe turns a service error into a message for a terminal, naming each bad field.
func describe(err error) error {
	ae := apperr.As(err)
	if ae == nil {
		return err
	}
	if len(ae.Fields) == 0 {
		return errors.New(ae.Message)
	}
	parts := make([]string, len(ae.Fields))
	for i, f := range ae.Fields {
		parts[i] = "--" + f.Field + " " + f.Message
	}
	return errors.New(strings.Join(parts, "; "))
}

func userCmd(ctx context.Context, cfg *config.Config, log *slog.Logger, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	sub, fs, args, err := subcommand("user", userUsage, args, stderr)
	if err != nil {
		return err
	}
	email := fs.String("email", "", "the user's email")
	role := fs.String("role", "", "admin, operator or viewer")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (passwords are never arguments: they are read from standard input)", fs.Arg(0))
	}
	needEmail := func() error {
		if *email == "" {
			return fmt.Errorf("user %s: --email is required", sub)
		}
		return nil
	}
	switch sub {
	case "create", "set-password":
		if err := needEmail(); err != nil {
			return err
		}
		if sub == "create" && *role == "" {
			return errors.New("user create: --role is required (admin, operator or viewer)")
		}
	case "disable", "enable":
		if err := needEmail(); err != nil {
			return err
		}
	case "set-role":
		if err := needEmail(); err != nil {
			return err
		}
		if *role == "" {
			return errors.New("user set-role: --role is required")
		}
	case "list":
	default:
		fmt.Fprint(stderr, userUsage)
		return fmt.Errorf("unknown user subcommand %q", sub)
	}
	// The password is read before the database opens, so a prompt is not interleaved
	// with start-up log lines.
	var password string
	if sub == "create" || sub == "set-password" {
		var err error
		if password, err = readPassword(stdin, stderr); err != nil {
			return err
		}
	}

	ctx, svc, done, err := openAuth(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer done()

	byEmail := func() (auth.User, error) {
		u, err := svc.UserByEmail(ctx, *email)
		if apperr.CodeOf(err) == apperr.NotFound {
			return u, fmt.Errorf("no user with email %s", *email)
		}
		return u, describe(err)
	}
	switch sub {
	case "create":
		u, err := svc.CreateUser(ctx, auth.UserInput{Email: *email, Role: *role, Password: password})
		if err != nil {
			return describe(err)
		}
		fmt.Fprintf(stdout, "created %s (%s), id %d\n", u.Email, u.Role, u.ID)
	case "list":
		users, err := svc.ListUsers(ctx)
		if err != nil {
			return describe(err)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tEMAIL\tROLE\tSTATE\tLAST SIGN-IN\tCREATED")
		for _, u := range users {
			state := "active"
			if u.Disabled {
				state = "disabled"
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", u.ID, u.Email, u.Role, state, cliTime(u.LastLoginAt), cliTime(&u.CreatedAt))
		}
		return tw.Flush()
	case "disable", "enable":
		u, err := byEmail()
		if err != nil {
			return err
		}
		if u, err = svc.SetDisabled(ctx, u.ID, sub == "disable"); err != nil {
			return describe(err)
		}
		fmt.Fprintf(stdout, "%s is %sd\n", u.Email, sub)
	case "set-role":
		u, err := byEmail()
		if err != nil {
			return err
		}
		if u, err = svc.SetRole(ctx, u.ID, *role); err != nil {
			return describe(err)
		}
		fmt.Fprintf(stdout, "%s is now %s\n", u.Email, u.Role)
	case "set-password":
		u, err := byEmail()
		if err != nil {
			return err
		}
		if err := svc.SetPassword(ctx, u.ID, password); err != nil {
			return describe(err)
		}
		fmt.Fprintf(stdout, "password of %s changed\n", u.Email)
	}
	return nil
}

// readPassword prompts twice without echo on a terminal; otherwise it reads the first
// line of stdin (so `printf '%s\n' "$PW" | rosetta user create …` works in scripts).
func readPassword(stdin io.Reader, stderr io.Writer) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(stderr, "Password (at least %d characters): ", auth.MinPasswordLen)
		p1, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprint(stderr, "Repeat the password: ")
		p2, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		if string(p1) != string(p2) {
			return "", errors.New("the passwords differ")
		}
		return checkPassword(string(p1))
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, auth.MaxPasswordLen+2)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the password from standard input: %w", err)
	}
	return checkPassword(strings.TrimRight(line, "\r\n"))
}

func checkPassword(p string) (string, error) {
	var f apperr.Fields
	auth.ValidatePassword(&f, "password", p)
	if len(f) > 0 {
		return "", fmt.Errorf("the password %s", f[0].Message)
	}
	return p, nil
}

func cliTime(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

// firstRun makes sure someone can sign in. Development (make run) creates an admin
// with a generated password and prints it once; elsewhere nobody is created and the
// operator is told how to create the first admin. There are no default credentials.
func firstRun(ctx context.Context, cfg *config.Config, svc *auth.Service, url string, stderr io.Writer, log *slog.Logger) {
	if !cfg.IsDevelopment() {
		n, err := svc.CountUsers(ctx)
		if err != nil {
			log.Error("count users", "err", err)
			return
		}
		if n == 0 {
			log.Warn("no users yet, so nobody can sign in: create the first admin with " +
				"`rosetta user create --email you@example.com --role admin` (the password is read from standard input)")
		}
		return
	}
	email, password, created, err := svc.EnsureFirstAdmin(ctx)
	if err != nil {
		log.Error("create the first admin", "err", err)
		return
	}
	if !created {
		return
	}
	// Straight to the terminal, not through the logger: a log file must never hold it.
	fmt.Fprintf(stderr, `
  ┌──────────────────────────────────────────────────────────────────
  │ First run: Rosetta created an admin account (shown only this once)
  │
  │   Sign in at  %s/login
  │   Email       %s
  │   Password    %s
  │
  │ Create your own account under Users, then disable this one.
  └──────────────────────────────────────────────────────────────────

`, url, email, password)
}
