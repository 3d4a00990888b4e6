// Package listenaddr finds the address a tether server listens on in what
// it prints at start ("Listening on http://…"), for the tests and measuring
// tools that start one on a free port.
package listenaddr

import (
	"bufio"
	"io"
	"regexp"
)

var listenRE = regexp.MustCompile(`Listening on (http://\S+)`)

// Watch reads r (a server's stderr) in its own goroutine and sends the base
// URL of the first "Listening on" line on the returned channel, then keeps
// draining r until it ends, so that the server never blocks on a full
// pipe. Nothing is sent if no such line comes.
func Watch(r io.Reader) <-chan string {
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if m := listenRE.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
				break
			}
		}
		_, _ = io.Copy(io.Discard, r)
	}()
	return found
}
