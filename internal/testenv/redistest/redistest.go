// Package redistest starts real redis-server processes for tests: single
// nodes, a Cluster, TLS with generated certificates and ACL users. Each
// server listens on a free loopback port with a temporary directory and no
// persistence, and is stopped when the test ends. Tests can pause it
// (SIGSTOP), resume it (SIGCONT), kill it and start it again on the same port
// to exercise outages.
//
// A missing redis-server fails the test with a message saying what to
// install; it never skips silently.
package redistest

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Server is one redis-server process.
type Server struct {
	t    testing.TB
	Port int
	Addr string // 127.0.0.1:Port
	dir  string
	conf string
	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	tls  bool
	bin  string // redis-server, or redis-sentinel for a Sentinel
}

// Config is extra configuration for a server.
type Config struct {
	// Lines are extra redis.conf lines, e.g. "cluster-enabled yes".
	Lines []string
	// TLS, when set, makes the server speak TLS only, with these files.
	TLS *TLSFiles
}

// Binary returns the path of redis-server or fails the test.
func Binary(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server is not installed: install the Debian package redis-server (apt-get install redis-server); ./scripts/test.sh does this when run as root")
	}
	return p
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Start starts a redis-server and waits until it accepts connections.
func Start(t testing.TB, cfg Config) *Server {
	t.Helper()
	Binary(t)
	dir := t.TempDir()
	s := &Server{t: t, dir: dir, tls: cfg.TLS != nil, bin: Binary(t)}
	for attempt := 0; ; attempt++ {
		s.Port = FreePort(t)
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port))
		s.conf = filepath.Join(dir, "redis.conf")
		lines := []string{
			"bind 127.0.0.1", "save \"\"", "appendonly no", "protected-mode yes",
			"dir " + dir, "logfile " + filepath.Join(dir, "redis.log"), "daemonize no",
		}
		if cfg.TLS != nil {
			lines = append(lines, "port 0", "tls-port "+strconv.Itoa(s.Port),
				"tls-cert-file "+cfg.TLS.Cert, "tls-key-file "+cfg.TLS.Key,
				"tls-ca-cert-file "+cfg.TLS.CA, "tls-auth-clients no")
		} else {
			lines = append(lines, "port "+strconv.Itoa(s.Port))
		}
		lines = append(lines, cfg.Lines...)
		if err := os.WriteFile(s.conf, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := s.start(); err == nil {
			break
		} else if attempt == 2 {
			t.Fatalf("start redis-server: %v\nlog:\n%s", err, s.Log())
		}
	}
	t.Cleanup(s.Kill)
	return s
}

// start launches the process with the current config and waits for it.
func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cmd := exec.Command(s.bin, s.conf)
	cmd.Dir = s.dir
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.cmd, s.done = cmd, done
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return fmt.Errorf("redis-server exited at start")
		default:
		}
		c, err := net.DialTimeout("tcp", s.Addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	return fmt.Errorf("redis-server did not listen on %s within 10s", s.Addr)
}

// Log returns the server's log file.
func (s *Server) Log() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
	return string(b)
}

// Pause stops the process with SIGSTOP: connections stay open, nothing answers.
func (s *Server) Pause() { s.signal(syscall.SIGSTOP) }

// Resume continues a paused process with SIGCONT.
func (s *Server) Resume() { s.signal(syscall.SIGCONT) }

func (s *Server) signal(sig syscall.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(sig)
	}
}

// Kill kills the process (SIGKILL) and waits for it to exit. Its data is
// gone: the server keeps nothing on disk.
func (s *Server) Kill() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGCONT)
	_ = cmd.Process.Kill()
	<-done
}

// Restart starts the server again on the same port after Kill.
func (s *Server) Restart() {
	s.t.Helper()
	var err error
	for i := 0; i < 50; i++ { // the port may linger for a moment
		if err = s.start(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("restart redis-server on %s: %v\nlog:\n%s", s.Addr, err, s.Log())
}

// Cluster starts n masters with cluster mode on and joins them with
// redis-cli --cluster create (no replicas). It returns the servers.
func Cluster(t testing.TB, n int) []*Server {
	t.Helper()
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		t.Fatalf("redis-cli is not installed: install the Debian package redis-tools")
	}
	var nodes []*Server
	args := []string{"--cluster", "create"}
	for i := 0; i < n; i++ {
		s := Start(t, Config{Lines: []string{"cluster-enabled yes", "cluster-config-file nodes.conf", "cluster-node-timeout 5000"}})
		nodes = append(nodes, s)
		args = append(args, s.Addr)
	}
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	out, err := exec.Command(cli, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	// Wait until every node reports the cluster as ok.
	deadline := time.Now().Add(20 * time.Second)
	for _, s := range nodes {
		for {
			info, _ := exec.Command(cli, "-p", strconv.Itoa(s.Port), "cluster", "info").Output()
			if strings.Contains(string(info), "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("cluster did not become ok within 20s; node %s says:\n%s", s.Addr, info)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return nodes
}

// CommandStats returns INFO commandstats of a plain-TCP server as
// command -> calls, through redis-cli.
func (s *Server) CommandStats(t testing.TB) map[string]int {
	t.Helper()
	out, err := exec.Command("redis-cli", "-p", strconv.Itoa(s.Port), "info", "commandstats").Output()
	if err != nil {
		t.Fatalf("redis-cli info commandstats: %v", err)
	}
	stats := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		name, rest, ok := strings.Cut(line, ":")
		if !ok || !strings.HasPrefix(name, "cmdstat_") {
			continue
		}
		for _, kv := range strings.Split(rest, ",") {
			if v, ok := strings.CutPrefix(kv, "calls="); ok {
				stats[strings.TrimPrefix(name, "cmdstat_")], _ = strconv.Atoi(v)
			}
		}
	}
	return stats
}
