package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// procRSS is the resident set size of pid in bytes, from /proc/PID/status
// (VmRSS), or 0 when the process is gone.
func procRSS(pid int) int64 {
	if pid == 0 {
		return 0
	}
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// series is one scrape of a Prometheus text endpoint: "name{labels}" (as
// written by the server) to value.
type series map[string]float64

// scrape reads url (a /metrics endpoint) in the Prometheus text format.
func scrape(url string) (series, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("%s answered %d", url, resp.StatusCode)
	}
	return parseSeries(bufio.NewScanner(resp.Body))
}

// parseSeries reads the sample lines of the Prometheus text format
// (comments skipped; a timestamp after the value is ignored).
func parseSeries(sc *bufio.Scanner) (series, error) {
	s := series{}
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		// The value follows the last space outside the label braces.
		cut := strings.LastIndexByte(line, '}')
		rest := line[cut+1:]
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			return nil, fmt.Errorf("metrics line %q has no value", line)
		}
		name := line[:cut+1]
		if cut < 0 {
			name = fields[0]
			fields = fields[1:]
			if len(fields) == 0 {
				return nil, fmt.Errorf("metrics line %q has no value", line)
			}
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			return nil, fmt.Errorf("metrics line %q: %v", line, err)
		}
		s[name] = v
	}
	return s, sc.Err()
}

// sum adds the values of every series of metric name whose labels contain
// each of the given label pairs (e.g. `op="load"`).
func (s series) sum(name string, labels ...string) float64 {
	var total float64
next:
	for k, v := range s {
		base, lbl, _ := strings.Cut(k, "{")
		if base != name {
			continue
		}
		for _, l := range labels {
			if !strings.Contains(lbl, l) {
				continue next
			}
		}
		total += v
	}
	return total
}

// mib formats bytes as MiB with one decimal.
func mib(b float64) string { return strconv.FormatFloat(b/(1<<20), 'f', 1, 64) + " MiB" }
