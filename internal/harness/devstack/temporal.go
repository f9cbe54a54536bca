package devstack

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
)

// startTemporal runs the temporal CLI's dev server with a persistent SQLite
// file and the given search attributes, and waits until its frontend answers
// health checks (and its Web UI answers, when one is asked for).
func (s *Stack) startTemporal(ctx context.Context) error {
	o := s.opts
	var err error
	if s.temporalPort = o.TemporalPort; s.temporalPort == 0 {
		if s.temporalPort, err = freePort(); err != nil {
			return err
		}
	}
	args := []string{"server", "start-dev",
		"--ip=127.0.0.1", "--port=" + strconv.Itoa(s.temporalPort),
		"--db-filename=" + s.path("temporal.db"),
		"--log-level=warn",
	}
	if o.TemporalUIPort < 0 {
		args = append(args, "--headless")
	} else {
		if s.temporalUIPort = o.TemporalUIPort; s.temporalUIPort == 0 {
			if s.temporalUIPort, err = freePort(); err != nil {
				return err
			}
		}
		args = append(args, "--ui-port="+strconv.Itoa(s.temporalUIPort))
	}
	for _, sa := range o.SearchAttributes {
		args = append(args, "--search-attribute="+sa)
	}
	proc, err := s.procs.start("temporal", s.bin("temporal"), args...)
	if err != nil {
		return err
	}
	addr := s.TemporalAddress()
	err = s.procs.poll(ctx, "temporal dev server", 200*time.Millisecond, []*Process{proc}, func(ctx context.Context) error {
		// Dialling before the port is open only burns time in gRPC back-off.
		if c, err := (&net.Dialer{Timeout: time.Second}).DialContext(ctx, "tcp", addr); err != nil {
			return err
		} else {
			c.Close()
		}
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		c, err := client.DialContext(cctx, client.Options{HostPort: addr, Logger: quietTemporalLogger()})
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.CheckHealth(cctx, &client.CheckHealthRequest{})
		return err
	})
	if err != nil || s.temporalUIPort == 0 {
		return err
	}
	return s.procs.poll(ctx, "temporal web UI", 200*time.Millisecond, []*Process{proc}, func(ctx context.Context) error {
		return httpOK(ctx, http.DefaultClient, s.TemporalUIURL())
	})
}

// TemporalAddress is the host:port of the dev server's gRPC frontend.
func (s *Stack) TemporalAddress() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.temporalPort))
}

// TemporalUIURL is the Web UI's address, or "" when the UI is disabled.
func (s *Stack) TemporalUIURL() string {
	if s.temporalUIPort == 0 {
		return ""
	}
	return fmt.Sprintf("http://127.0.0.1:%d", s.temporalUIPort)
}

// quietTemporalLogger drops the SDK's informational lines while the stack
// polls the server.
func quietTemporalLogger() log.Logger {
	return log.NewStructuredLogger(slog.New(slog.DiscardHandler))
}
