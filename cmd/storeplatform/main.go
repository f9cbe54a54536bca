// Command storeplatform runs Store Platform in production: the HTTP API or
// the Temporal worker (the platform's image runs it), and manages API
// tokens. The whole local stack for development is another command,
// storeplatform-dev; this one links neither that stack nor the embedded
// FerretDB. main only wires: internal/platform assembles.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/storeplatform/storeplatform/internal/config"
)

const usage = `usage: storeplatform <command> [flags]

commands:
  api      serve the HTTP API
  worker   run the Temporal worker that provisions and removes stores
  token    create, list or revoke API tokens

Run "storeplatform <command> -h" for the command's flags. Every flag can also
be set with the environment variable named in its help. The local stack for
development is storeplatform-dev (make dev).
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one command and returns the process exit code: 0 on success,
// 1 on a runtime or configuration error, 2 on a usage error.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	var err error
	switch cmd {
	case "api":
		err = runAPI(ctx, rest, getenv, stderr)
	case "worker":
		err = runWorker(ctx, rest, getenv, stderr)
	case "token":
		err = runToken(ctx, rest, getenv, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "storeplatform: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	return config.ExitCode(stderr, "storeplatform "+cmd, err)
}
