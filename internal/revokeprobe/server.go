package revokeprobe

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/tetherhq/tether/internal/testenv/listenaddr"
)

// Server is a `tether serve --demo` child process on a free loopback port.
type Server struct {
	Base string // http://127.0.0.1:port
	cmd  *exec.Cmd
	out  *capped
	done chan struct{}
}

// StartServer runs bin (a built `tether`) as `serve --demo` on 127.0.0.1
// with a free port, data in dataDir (also its working directory, so no .env
// of a checkout applies) and exactly the environment env (KEY=value; the
// caller's own environment is not passed on). It returns once the server
// has printed the address it listens on, or after 30 s with an error that
// carries the server's output.
func StartServer(bin, dataDir string, env []string) (*Server, error) {
	bin, err := filepath.Abs(bin) // the child runs in dataDir
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve", "--demo", "--host", "127.0.0.1", "--port", "0", "--data-dir", dataDir)
	cmd.Dir, cmd.Env = dataDir, env
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive the measurement
	s := &Server{cmd: cmd, out: &capped{max: 64 << 10}, done: make(chan struct{})}
	cmd.Stdout = s.out // security events: kept (bounded) for the error message
	pr, pw := io.Pipe()
	cmd.Stderr = io.MultiWriter(s.out, pw)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() { _ = cmd.Wait(); pw.Close(); close(s.done) }()
	found := listenaddr.Watch(pr)
	select {
	case s.Base = <-found:
		return s, nil
	case <-s.done:
		return nil, fmt.Errorf("%s exited before listening: %v\n%s", bin, cmd.ProcessState, s.out)
	case <-time.After(30 * time.Second):
		s.Stop()
		return nil, fmt.Errorf("%s did not print its address within 30s:\n%s", bin, s.out)
	}
}

// Stop sends SIGTERM, waits up to 10 s for a graceful exit, then kills.
// It returns an error when the server did not exit cleanly.
func (s *Server) Stop() error {
	select {
	case <-s.done:
		return exitErr(s.cmd)
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
		return exitErr(s.cmd)
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
		return errors.New("server did not stop within 10s of SIGTERM; killed")
	}
}

func exitErr(cmd *exec.Cmd) error {
	if st := cmd.ProcessState; st != nil && !st.Success() {
		return fmt.Errorf("server exited: %v", st)
	}
	return nil
}

// Output is what the server wrote so far (the first 64 KiB).
func (s *Server) Output() string { return s.out.String() }

// capped keeps the first max bytes written to it, safe for concurrent use.
type capped struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (c *capped) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if room := c.max - c.buf.Len(); room > 0 {
		c.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (c *capped) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}

// Env is the environment of a server on the Redis at redisURL with the
// given session secret and REDIS_CLIENT_CACHE value ("" leaves it unset),
// plus PATH and HOME from this process and extra KEY=value entries.
func Env(redisURL, secret, clientCache string, extra ...string) []string {
	env := []string{"REDIS_URL=" + redisURL, "SESSION_SECRET=" + secret, "PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	if clientCache != "" {
		env = append(env, "REDIS_CLIENT_CACHE="+clientCache)
	}
	return append(env, extra...)
}
