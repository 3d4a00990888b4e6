package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is a child process that can be killed, paused and started again
// with the same command line (and so the same port).
type proc struct {
	name string
	argv []string
	env  []string
	dir  string
	log  string // file that receives stdout and stderr

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// start launches the process and waits until ready returns nil.
func (p *proc) start(ready func() error) error {
	lf, err := os.OpenFile(p.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(p.argv[0], p.argv[1:]...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = p.dir, p.env, lf, lf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive the soak
	if err := cmd.Start(); err != nil {
		lf.Close()
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); lf.Close(); close(done) }()
	p.mu.Lock()
	p.cmd, p.done = cmd, done
	p.mu.Unlock()
	for end := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		select {
		case <-done:
			return fmt.Errorf("%s exited at start; see %s", p.name, p.log)
		default:
		}
		err := ready()
		if err == nil {
			return nil
		}
		if time.Now().After(end) {
			p.stop(syscall.SIGKILL)
			return fmt.Errorf("%s not ready within 30s: %v; see %s", p.name, err, p.log)
		}
	}
}

// stop sends sig (after SIGCONT, in case it is paused) and waits for the
// process to exit.
func (p *proc) stop(sig syscall.Signal) {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.cmd = nil
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGCONT)
	_ = cmd.Process.Signal(sig)
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// signal sends sig to the running process, if any.
func (p *proc) signal(sig syscall.Signal) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		_ = p.cmd.Process.Signal(sig)
	}
}

// pid is the process id, or 0 when it is not running.
func (p *proc) pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// newRedis prepares a redis-server on port. A durable one keeps every
// acknowledged write (an append-only file fsynced on every write), so that
// a restart, graceful or SIGKILL, loses nothing and the soak can count
// increments; otherwise it keeps nothing on disk.
func newRedis(work string, port int, durable bool) (*proc, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("redis-server is not installed: install the Debian package redis-server")
	}
	dir := filepath.Join(work, "redis")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	lines := []string{
		"bind 127.0.0.1", "port " + strconv.Itoa(port), "protected-mode yes", "daemonize no",
		"dir " + dir, `save ""`, "appendonly no",
	}
	if durable {
		lines = append(lines, "appendonly yes", "appendfsync always")
	}
	conf := strings.Join(lines, "\n") + "\n"
	if err := os.WriteFile(filepath.Join(dir, "redis.conf"), []byte(conf), 0o600); err != nil {
		return nil, err
	}
	return &proc{name: "redis", argv: []string{bin, filepath.Join(dir, "redis.conf")}, dir: dir,
		log: filepath.Join(dir, "redis.log")}, nil
}

// dialReady succeeds once addr accepts TCP connections and answers PING.
func dialReady(addr string) func() error {
	return func() error {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			return err
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(time.Second))
		if _, err := io.WriteString(c, "PING\r\n"); err != nil {
			return err
		}
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil {
			return err
		}
		if !strings.HasPrefix(line, "+PONG") {
			return fmt.Errorf("PING answered %q", strings.TrimSpace(line))
		}
		return nil
	}
}

// newTether prepares `tether serve --demo` on port with its own data
// directory and the given extra environment.
func newTether(work, bin, name string, port int, env []string) (*proc, error) {
	dir := filepath.Join(work, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	return &proc{
		name: name, dir: dir, log: filepath.Join(dir, "tether.log"),
		argv: []string{bin, "serve", "--demo", "--host", "127.0.0.1", "--port", strconv.Itoa(port), "--data-dir", dir},
		env:  append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}, env...),
	}, nil
}

// httpReady succeeds once GET url answers 200.
func httpReady(url string) func() error {
	return func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("%s answered %d", url, resp.StatusCode)
		}
		return nil
	}
}

// buildTether compiles ./cmd/tether into dir (with the race detector when
// race is set, which reuses the objects of `go test -race`).
func buildTether(dir string, race bool) (string, error) {
	// Not "tether": the flood's instance keeps its data in a directory of
	// that name beside the binary.
	out := filepath.Join(dir, "tether-bin")
	args := []string{"build", "-o", out}
	if race {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, "./cmd/tether")...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build ./cmd/tether (run the soak from the repository root): %w", err)
	}
	return out, nil
}
