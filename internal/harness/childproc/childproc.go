// Package childproc runs the platform's own processes (`storeplatform api`,
// `worker`, `dev`) as children of a test suite or harness (internal/chaos,
// internal/bench): each with its output in a log file, a line that says it is
// up, its own process group, and SIGKILL when the parent dies.
package childproc

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Process is one child process that the caller starts, kills and starts
// again. Its output goes to a log file (which internal/chaos's secret scan
// reads afterwards).
type Process struct {
	Name      string
	Cmd       *exec.Cmd
	StartedAt time.Time
	done      chan struct{}
	up        chan struct{} // closed when a line containing upLine was logged
	killed    atomic.Bool   // set before the caller kills it on purpose

	mu   sync.Mutex
	upAt time.Time
}

// Start runs bin with args and env (added to this process's environment),
// appending its output to logPath. upLine marks the output line that says
// the process is ready. The child gets its own process group and SIGKILL
// when this process dies.
func Start(name, logPath, upLine string, env []string, bin string, args ...string) (*Process, error) {
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
	c := &Process{Name: name, Cmd: cmd, done: make(chan struct{}), up: make(chan struct{})}
	c.StartedAt = time.Now()
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

func (c *Process) copyOutput(r io.ReadCloser, logFile io.Writer, upLine string) {
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

// PID is the child's process ID.
func (c *Process) PID() int { return c.Cmd.Process.Pid }

// Done is closed once the child has exited and its output is written.
func (c *Process) Done() <-chan struct{} { return c.done }

// Killed reports whether the caller stopped or killed the child on purpose.
func (c *Process) Killed() bool { return c.killed.Load() }

// Alive reports whether the child was up and has not exited.
func (c *Process) Alive() bool {
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

// UpTime is when the child said it was ready (zero: not yet).
func (c *Process) UpTime() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.upAt
}

// Kill sends SIGKILL to the child's process group and waits until it has
// exited.
func (c *Process) Kill() {
	c.killed.Store(true)
	select {
	case <-c.done:
		return
	default:
	}
	_ = syscall.Kill(-c.PID(), syscall.SIGKILL)
	<-c.done
}

// Stop asks the child to stop (SIGTERM), then kills it after grace.
func (c *Process) Stop(grace time.Duration) {
	c.killed.Store(true)
	select {
	case <-c.done:
		return
	default:
	}
	_ = syscall.Kill(-c.PID(), syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(grace):
		_ = syscall.Kill(-c.PID(), syscall.SIGKILL)
		<-c.done
	}
}

// WaitUp waits until the child is ready, has exited, or timeout passed.
func (c *Process) WaitUp(timeout time.Duration) error {
	select {
	case <-c.up:
		return nil
	case <-c.done:
		return fmt.Errorf("%s exited before it was ready (%v)", c.Name, c.Cmd.ProcessState)
	case <-time.After(timeout):
		return fmt.Errorf("%s not ready after %s", c.Name, timeout)
	}
}

// WaitHTTP waits until url answers at all.
func WaitHTTP(url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	hc := &http.Client{Timeout: 5 * time.Second}
	for {
		resp, err := hc.Get(url)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: %w", url, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// FreePort picks an unused loopback port below the kernel's ephemeral range,
// as devstack does.
func FreePort() (int, error) {
	for port := 20000 + int(time.Now().UnixNano()%12000); port < 32768; port++ {
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue
		}
		l.Close()
		return port, nil
	}
	return 0, errors.New("no free port")
}
