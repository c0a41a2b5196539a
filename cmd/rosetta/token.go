package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/rosetta-cdc/rosetta/internal/apperr"
	"github.com/rosetta-cdc/rosetta/internal/auth"
	"github.com/rosetta-cdc/rosetta/internal/config"
)

const tokenUsage = `Usage:
  rosetta token create --email E --name N [--expires 30d|12h|never]
        prints only the token on standard output (it is shown this once)
  rosetta token list [--email E]
  rosetta token revoke --id N
`

func tokenCmd(ctx context.Context, cfg *config.Config, log *slog.Logger, args []string, stdout, stderr io.Writer) error {
	sub, fs, args, err := subcommand("token", tokenUsage, args, stderr)
	if err != nil {
		return err
	}
	email := fs.String("email", "", "the owner's email")
	name := fs.String("name", "", "what the token is for")
	expires := fs.String("expires", "never", "lifetime: 30d, 12h, never")
	id := fs.Int64("id", 0, "the token's id (see token list)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var life time.Duration
	switch sub {
	case "create":
		if *email == "" || *name == "" {
			return errors.New("token create: --email and --name are required")
		}
		var err error
		if life, err = auth.ParseLifetime(*expires); err != nil {
			return fmt.Errorf("--expires: %w", err)
		}
	case "revoke":
		if *id <= 0 {
			return errors.New("token revoke: --id is required (see rosetta token list)")
		}
	case "list":
	default:
		fmt.Fprint(stderr, tokenUsage)
		return fmt.Errorf("unknown token subcommand %q", sub)
	}

	ctx, svc, done, err := openAuth(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer done()
	var owner int64
	if *email != "" {
		u, err := svc.UserByEmail(ctx, *email)
		if apperr.CodeOf(err) == apperr.NotFound {
			return fmt.Errorf("no user with email %s", *email)
		}
		if err != nil {
			return describe(err)
		}
		owner = u.ID
	}
	switch sub {
	case "create":
		t, err := svc.CreateToken(ctx, auth.TokenInput{UserID: owner, Name: *name, ExpiresIn: life})
		if err != nil {
			return describe(err)
		}
		fmt.Fprintln(stdout, t.Secret)
	case "list":
		toks, err := svc.ListTokens(ctx, owner)
		if err != nil {
			return describe(err)
		}
		now := time.Now()
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tOWNER\tNAME\tTOKEN\tCREATED\tLAST USED\tEXPIRES\tSTATE")
		for _, t := range toks {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s…\t%s\t%s\t%s\t%s\n", t.ID, t.OwnerEmail, t.Name, t.Prefix,
				cliTime(&t.CreatedAt), cliTime(t.LastUsedAt), cliTime(t.ExpiresAt), t.State(now))
		}
		return tw.Flush()
	case "revoke":
		t, err := svc.RevokeToken(ctx, *id)
		if apperr.CodeOf(err) == apperr.NotFound {
			return fmt.Errorf("no token with id %d", *id)
		}
		if err != nil {
			return describe(err)
		}
		fmt.Fprintf(stdout, "revoked token %d (%s of %s)\n", t.ID, t.Name, t.OwnerEmail)
	}
	return nil
}
