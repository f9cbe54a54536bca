package chaos

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// child is one process of the platform (the API, a worker, or the whole
// `storeplatform dev`) that the suite starts, kills and starts again. Its
// output goes to a log file that the secret scan reads afterwards.
type child struct {
	name      string
	cmd       *exec.Cmd
	startedAt time.Time
	done      chan struct{}
	up        chan struct{} // closed when a line containing upLine was logged
	killed    atomic.Bool   // set before the suite kills it on purpose

	mu   sync.Mutex
	upAt time.Time
}

// startChild runs bin with args and env (added to the suite's environment),
// appending its output to logPath. upLine marks the output line that says
// the process is ready. The child gets its own process group and SIGKILL
// when the suite dies.
func startChild(name, logPath, upLine string, env []string, bin string, args ...string) (*child, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(logFile, "\n==== %s %s %s\n", time.Now().Format(time.RFC3339Nano), name, strings.Join(args, " "))
	r, w, err := os.Pipe()
	if err != nil {
		logFile.Close()
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = w, w
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	c := &child{name: name, cmd: cmd, done: make(chan struct{}), up: make(chan struct{})}
	c.startedAt = time.Now()
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	w.Close()
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		defer logFile.Close()
		c.copyOutput(r, logFile, upLine)
	}()
	go func() {
		_ = cmd.Wait()
		<-copied
		close(c.done)
	}()
	return c, nil
}

func (c *child) copyOutput(r io.ReadCloser, logFile io.Writer, upLine string) {
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	isUp := false
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintln(logFile, line)
		if !isUp && upLine != "" && strings.Contains(line, upLine) {
			isUp = true
			c.mu.Lock()
			c.upAt = time.Now()
			c.mu.Unlock()
			close(c.up)
		}
	}
	_, _ = io.Copy(logFile, r)
}

// pid is the child's process ID.
func (c *child) pid() int { return c.cmd.Process.Pid }

// identity is how the Temporal SDK's default worker identity begins for
// this process ("<pid>@host@...").
func (c *child) identity() string { return fmt.Sprintf("%d@", c.pid()) }

// alive reports whether the child was up and has not exited.
func (c *child) alive() bool {
	select {
	case <-c.done:
		return false
	default:
	}
	select {
	case <-c.up:
		return true
	default:
		return false
	}
}

// upTime is when the child said it was ready (zero: not yet).
func (c *child) upTime() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.upAt
}

// kill sends SIGKILL to the child's process group and waits until it has
// exited.
func (c *child) kill() {
	c.killed.Store(true)
	select {
	case <-c.done:
		return
	default:
	}
	_ = syscall.Kill(-c.pid(), syscall.SIGKILL)
	<-c.done
}

// stop asks the child to stop (SIGTERM), then kills it after grace.
func (c *child) stop(grace time.Duration) {
	c.killed.Store(true)
	select {
	case <-c.done:
		return
	default:
	}
	_ = syscall.Kill(-c.pid(), syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(grace):
		_ = syscall.Kill(-c.pid(), syscall.SIGKILL)
		<-c.done
	}
}

// waitUp waits until the child is ready, has exited, or timeout passed.
func (c *child) waitUp(timeout time.Duration) error {
	select {
	case <-c.up:
		return nil
	case <-c.done:
		return fmt.Errorf("%s exited before it was ready (%v)", c.name, c.cmd.ProcessState)
	case <-time.After(timeout):
		return fmt.Errorf("%s not ready after %s", c.name, timeout)
	}
}
