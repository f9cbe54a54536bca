package devstack

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Process is one child process the stack started. Its PID is written to a
// file so that a later run can stop a process an earlier one left behind
// (for example after the parent was killed with SIGKILL).
type Process struct {
	Name    string
	cmd     *exec.Cmd
	pidFile string
	done    chan struct{}
	err     error
}

// processSet starts and stops the stack's child processes.
type processSet struct {
	runDir string
	logDir string
	logger *slog.Logger

	mu    sync.Mutex
	procs []*Process
}

// start runs bin with args, logging to <logDir>/<name>.log. The child gets
// its own process group and receives SIGKILL when this process dies, so a
// crashed parent never leaves orphans listening on our ports.
func (s *processSet) start(name, bin string, args ...string) (*Process, error) {
	return s.startEnv(name, bin, nil, args...)
}

// startEnv is start with env added to this process's environment (a later
// entry of a variable wins).
func (s *processSet) startEnv(name, bin string, env []string, args ...string) (*Process, error) {
	pidFile := filepath.Join(s.runDir, name+".pid")
	stopStale(pidFile, bin)

	if err := os.MkdirAll(s.logDir, 0o755); err != nil {
		return nil, err
	}
	logPath := filepath.Join(s.logDir, name+".log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(logFile, "\n==== %s %s\n", time.Now().Format(time.RFC3339), name)

	cmd := exec.Command(bin, args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Process{Name: name, cmd: cmd, pidFile: pidFile, done: make(chan struct{})}
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(cmd.Process.Pid)+"\n"+bin+"\n"), 0o644); err != nil {
		_ = cmd.Process.Kill()
		logFile.Close()
		return nil, err
	}
	go func() {
		p.err = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	s.logger.Debug("started process", "name", name, "pid", cmd.Process.Pid, "log", logPath)

	s.mu.Lock()
	s.procs = append(s.procs, p)
	s.mu.Unlock()
	return p, nil
}

// exited reports an error if p has already exited, with the tail of its log.
func (s *processSet) exited(p *Process) error {
	select {
	case <-p.done:
		return fmt.Errorf("%s exited (%v); last log lines:\n%s", p.Name, p.err, tail(filepath.Join(s.logDir, p.Name+".log"), 15))
	default:
		return nil
	}
}

// stopAll stops the processes in the reverse order of their start.
func (s *processSet) stopAll(grace time.Duration) {
	s.mu.Lock()
	procs := s.procs
	s.mu.Unlock()
	for i := len(procs) - 1; i >= 0; i-- {
		s.stop(procs[i], grace)
	}
}

// stop stops p, SIGTERM to its process group and SIGKILL after grace, and
// forgets it.
func (s *processSet) stop(p *Process, grace time.Duration) {
	s.mu.Lock()
	for i, q := range s.procs {
		if q == p {
			s.procs = append(s.procs[:i:i], s.procs[i+1:]...)
			break
		}
	}
	s.mu.Unlock()
	pgid := p.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.done
	}
	_ = os.Remove(p.pidFile)
	s.logger.Debug("stopped process", "name", p.Name)
}

// stopStale kills the process recorded in pidFile if it still runs the same
// binary: the leftover of an earlier run that could not clean up.
func stopStale(pidFile, bin string) {
	data, err := os.ReadFile(pidFile)
	if err != nil {
		return
	}
	defer os.Remove(pidFile)
	lines := strings.SplitN(string(data), "\n", 3)
	pid, err := strconv.Atoi(strings.TrimSpace(lines[0]))
	if err != nil || pid <= 1 {
		return
	}
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil || (exe != bin && !strings.HasPrefix(exe, bin+" ")) {
		return
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	for i := 0; i < 50; i++ {
		if syscall.Kill(pid, 0) != nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// tail returns the last n lines of a file, for error messages.
func tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > 64<<10 {
		_, _ = f.Seek(-64<<10, io.SeekEnd)
	}
	data, _ := io.ReadAll(f)
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// poll calls check every interval until it returns nil, ctx ends, or one of
// the watched processes exits; the last error of check is returned on
// timeout.
func (s *processSet) poll(ctx context.Context, what string, interval time.Duration, watch []*Process, check func(context.Context) error) error {
	var last error
	for {
		for _, p := range watch {
			if err := s.exited(p); err != nil {
				return err
			}
		}
		last = check(ctx)
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w (last error: %v)", what, context.Cause(ctx), last)
		case <-time.After(interval):
		}
	}
}
