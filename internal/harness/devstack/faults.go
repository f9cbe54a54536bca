package devstack

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// Names of the stack's processes, for Kill and Restart. FerretDB is one only
// when Options.FerretDBCommand is set.
const (
	ProcEtcd              = "etcd"
	ProcKubeAPIServer     = "kube-apiserver"
	ProcControllerManager = "kube-controller-manager"
	ProcScheduler         = "kube-scheduler"
	ProcKwok              = "kwok"
	ProcTemporal          = "temporal"
	ProcFerretDB          = "ferretdb"
)

// Kill sends SIGKILL to the process group of the stack's process name and
// waits until it has exited: a crash, for fault tests (internal/chaos). The
// process stays dead until Restart.
func (s *Stack) Kill(name string) error {
	p := s.procs.find(name)
	if p == nil {
		return fmt.Errorf("devstack: no process %q", name)
	}
	select {
	case <-p.done:
		return nil // already dead: its PID may belong to another process now
	default:
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-p.done:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("devstack: %s did not exit after SIGKILL", name)
	}
}

// Restart starts the stack's process name again with the command line it
// had (same ports, same data), killing it first if it still runs. It does
// not wait until the process is ready: the caller knows what ready means.
func (s *Stack) Restart(name string) error {
	p := s.procs.find(name)
	if p == nil {
		return fmt.Errorf("devstack: no process %q", name)
	}
	if err := s.Kill(name); err != nil {
		return err
	}
	s.procs.remove(p)
	_, err := s.procs.start(name, p.cmd.Path, p.cmd.Args[1:]...)
	return err
}

// Running reports whether the stack's process name runs; false also when
// the stack has no such process.
func (s *Stack) Running(name string) bool {
	p := s.procs.find(name)
	return p != nil && s.procs.exited(p) == nil
}

// PID is the process ID of the stack's process name, 0 when there is none.
func (s *Stack) PID(name string) int {
	if p := s.procs.find(name); p != nil {
		return p.cmd.Process.Pid
	}
	return 0
}

// LogPath is the log file of the stack's process name.
func (s *Stack) LogPath(name string) string { return s.path("logs", name+".log") }

func (s *processSet) find(name string) *Process {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.procs) - 1; i >= 0; i-- {
		if s.procs[i].Name == name {
			return s.procs[i]
		}
	}
	return nil
}

func (s *processSet) remove(p *Process) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.procs = slices.DeleteFunc(s.procs, func(q *Process) bool { return q == p })
}

// startFerretDBProcess runs FerretDB as a child process, Options.FerretDBCommand
// followed by -listen and -dir (which ServeFerretDB reads), on a port that
// stays the same across Restart.
func (s *Stack) startFerretDBProcess(ctx context.Context) error {
	dir := s.path("ferretdb")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	port := s.opts.MongoPort
	if port == 0 {
		var err error
		if port, err = freePort(); err != nil {
			return err
		}
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	cmd := s.opts.FerretDBCommand
	args := append(slices.Clone(cmd[1:]), "-listen="+addr, "-dir="+dir)
	proc, err := s.procs.start(ProcFerretDB, cmd[0], args...)
	if err != nil {
		return err
	}
	s.mongoURI = "mongodb://" + addr + "/"
	return s.procs.poll(ctx, "ferretdb", 100*time.Millisecond, []*Process{proc}, func(ctx context.Context) error {
		c, err := (&net.Dialer{Timeout: time.Second}).DialContext(ctx, "tcp", addr)
		if err == nil {
			c.Close()
		}
		return err
	})
}

// ServeFerretDB is the main of a FerretDB child process (see
// Options.FerretDBCommand): it parses -listen and -dir from args, serves the
// MongoDB wire protocol there over SQLite files in dir, logging warnings to
// stderr, until ctx ends.
func ServeFerretDB(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("ferretdb", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:27017", "address to listen on")
	dir := fs.String("dir", "", "directory of the SQLite files")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		return errors.New("ferretdb: -dir is required")
	}
	if err := os.MkdirAll(*dir, 0o700); err != nil {
		return err
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Handler:   "sqlite",
		SQLiteURL: "file:" + *dir + "/",
		Logger:    slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		return fmt.Errorf("ferretdb: %w", err)
	}
	return f.Run(ctx)
}
