package redistest

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Sentinel timings of [StartSentinel]: short, so that a failover test takes
// seconds. A sentinel declares the master down after SentinelDownAfter
// without an answer; a failover that stalls is retried after
// SentinelFailoverTimeout.
const (
	SentinelDownAfter       = 1000 * time.Millisecond
	SentinelFailoverTimeout = 3000 * time.Millisecond
	SentinelMasterName      = "mymaster"
)

// Sentinel is a monitored master with one replica, watched by three
// redis-sentinel processes (quorum 2), all on loopback.
type Sentinel struct {
	Master, Replica *Server
	Sentinels       []*Server
}

// SentinelBinary returns the path of redis-sentinel or fails the test.
func SentinelBinary(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("redis-sentinel")
	if err != nil {
		t.Fatalf("redis-sentinel is not installed: install the Debian package redis-sentinel (apt-get install redis-sentinel); ./scripts/test.sh does this when run as root")
	}
	return p
}

// StartSentinel starts a master, a replica of it, and three sentinels that
// monitor it as SentinelMasterName, and waits until the replica is in sync
// and every sentinel knows the replica and the other two sentinels (so a
// failover can start as soon as the master dies).
func StartSentinel(t testing.TB) *Sentinel {
	t.Helper()
	bin := SentinelBinary(t)
	master := Start(t, Config{})
	replica := Start(t, Config{Lines: []string{"replicaof 127.0.0.1 " + strconv.Itoa(master.Port)}})
	sn := &Sentinel{Master: master, Replica: replica}
	for i := 0; i < 3; i++ {
		sn.Sentinels = append(sn.Sentinels, startSentinelProc(t, bin, master.Port))
	}
	waitFor(t, 20*time.Second, "the replica to finish its first sync", func() bool {
		return strings.Contains(cli(replica.Port, "info", "replication"), "master_link_status:up")
	})
	for _, s := range sn.Sentinels {
		waitFor(t, 20*time.Second, "sentinel "+s.Addr+" to see the replica and both other sentinels", func() bool {
			info := cli(s.Port, "sentinel", "master", SentinelMasterName)
			return fieldIs(info, "num-slaves", "1") && fieldIs(info, "num-other-sentinels", "2")
		})
	}
	return sn
}

// URL is the Sentinel form of REDIS_URL for this set (see redisstore.ParseURL).
func (sn *Sentinel) URL() string {
	u := "redis://" + sn.Sentinels[0].Addr + "?master_name=" + SentinelMasterName
	for _, s := range sn.Sentinels[1:] {
		u += "&addr=" + s.Addr
	}
	return u
}

// MasterAddr is the master's address as the first sentinel that answers
// reports it, or "" if none does.
func (sn *Sentinel) MasterAddr() string {
	for _, s := range sn.Sentinels {
		out := strings.Fields(cli(s.Port, "sentinel", "get-master-addr-by-name", SentinelMasterName))
		if len(out) == 2 {
			return net.JoinHostPort(out[0], out[1])
		}
	}
	return ""
}

// startSentinelProc starts one redis-sentinel monitoring the master on
// masterPort with quorum 2. Sentinel rewrites its configuration file, so
// each has a directory of its own.
func startSentinelProc(t testing.TB, bin string, masterPort int) *Server {
	t.Helper()
	dir := t.TempDir()
	s := &Server{t: t, dir: dir, bin: bin, conf: filepath.Join(dir, "sentinel.conf")}
	for attempt := 0; ; attempt++ {
		s.Port = FreePort(t)
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port))
		lines := []string{
			"bind 127.0.0.1", "port " + strconv.Itoa(s.Port), "protected-mode yes", "daemonize no",
			"dir " + dir, "logfile " + filepath.Join(dir, "redis.log"),
			"sentinel monitor " + SentinelMasterName + " 127.0.0.1 " + strconv.Itoa(masterPort) + " 2",
			"sentinel down-after-milliseconds " + SentinelMasterName + " " + strconv.FormatInt(SentinelDownAfter.Milliseconds(), 10),
			"sentinel failover-timeout " + SentinelMasterName + " " + strconv.FormatInt(SentinelFailoverTimeout.Milliseconds(), 10),
			"sentinel parallel-syncs " + SentinelMasterName + " 1",
		}
		if err := os.WriteFile(s.conf, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := s.start(); err == nil {
			break
		} else if attempt == 2 {
			t.Fatalf("start redis-sentinel: %v\nlog:\n%s", err, s.Log())
		}
	}
	t.Cleanup(s.Kill)
	return s
}

// cli runs redis-cli against a loopback port and returns its output, or ""
// when it fails (the caller polls).
func cli(port int, args ...string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "redis-cli", append([]string{"-p", strconv.Itoa(port)}, args...)...).Output()
	if err != nil {
		return ""
	}
	return string(out)
}

// fieldIs reports whether the flat name/value list that redis-cli prints
// for SENTINEL MASTER (one item a line) has name followed by value.
func fieldIs(out, name, value string) bool {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for i := 0; i+1 < len(lines); i++ {
		if strings.TrimSpace(lines[i]) == name {
			return strings.TrimSpace(lines[i+1]) == value
		}
	}
	return false
}

// waitFor polls cond every 50 ms until it holds, or fails the test after d.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(d); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
	}
}
