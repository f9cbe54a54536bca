package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/storeplatform/storeplatform/internal/auth"
	"github.com/storeplatform/storeplatform/internal/config"
	"github.com/storeplatform/storeplatform/internal/deps"
)

const tokenUsage = `usage:
  storeplatform token create -tenant NAME [-role tenant|admin] [-name LABEL]
  storeplatform token list
  storeplatform token revoke ID

Tokens are stored as hashes in MongoDB (MONGODB_URI, MONGODB_DB); a new token
is printed once and cannot be shown again.
`

// runToken manages API tokens.
func runToken(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, tokenUsage)
		return fmt.Errorf("%w: missing token command", config.ErrUsage)
	}
	sub, rest := args[0], args[1:]
	var id string
	if sub == "revoke" {
		if len(rest) == 0 || rest[0] == "" || rest[0][0] == '-' {
			return fmt.Errorf("%w: token revoke takes the token's ID first", config.ErrUsage)
		}
		id, rest = rest[0], rest[1:]
	}
	fs := flag.NewFlagSet("storeplatform token "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	tenant := fs.String("tenant", "", "tenant the token acts for")
	role := fs.String("role", string(auth.RoleTenant), "tenant or admin")
	name := fs.String("name", "", "a label for the token")
	cfg, err := config.Load(fs, rest, getenv)
	if err != nil {
		return err
	}
	if sub == "create" {
		// Before connecting: a tenant the store chart refuses would own
		// stores that all fail to install.
		if err := auth.ValidateTenant(*tenant); err != nil {
			return fmt.Errorf("%w: -tenant: %v", config.ErrUsage, err)
		}
	}
	c, err := deps.ConnectMongo(ctx, cfg)
	if err != nil {
		return err
	}
	defer c.Disconnect(context.WithoutCancel(ctx))
	tokens := auth.NewMongoTokens(c.Database(cfg.MongoDB))
	switch sub {
	case "create":
		if err := tokens.EnsureIndexes(ctx); err != nil {
			return err
		}
		plain, t, err := tokens.Create(ctx, *tenant, auth.Role(*role), *name, time.Now())
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "created token %s for tenant %s (%s); it is shown only now:\n", t.ID, t.Tenant, t.Role)
		fmt.Fprintln(stdout, plain)
	case "list":
		list, err := tokens.List(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tTENANT\tROLE\tNAME\tCREATED\tREVOKED")
		for _, t := range list {
			revoked := "-"
			if t.RevokedAt != nil {
				revoked = t.RevokedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Tenant, t.Role, t.Name, t.CreatedAt.Format(time.RFC3339), revoked)
		}
		return tw.Flush()
	case "revoke":
		if err := tokens.Revoke(ctx, id, time.Now()); errors.Is(err, auth.ErrNotFound) {
			return fmt.Errorf("no token with ID %s", id)
		} else if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "revoked token %s\n", id)
	default:
		fmt.Fprint(stderr, tokenUsage)
		return fmt.Errorf("%w: unknown token command %q", config.ErrUsage, sub)
	}
	return nil
}
