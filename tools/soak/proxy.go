package main

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"time"
)

// proxy is the tiny round-robin reverse proxy in front of the tether
// instances. Each request goes to the next backend in turn; when the
// connection to it cannot even be opened (the instance is dead), the
// request moves on to the following one, as nginx's proxy_next_upstream
// does for "error". A request that reached a backend is never sent to
// another one: GET /views is not idempotent, and a backend that died
// after counting would otherwise count twice behind one answer. When no
// backend takes the connection, or the chosen one fails mid-request, the
// answer is 502 (the proxy's own, never confused with tether's 5xx: it
// carries the header X-Soak-Proxy).
type proxy struct {
	backends []*url.URL
	next     atomic.Uint64
	rp       *httputil.ReverseProxy
	// Redials counts requests moved to another backend after a dial error;
	// Failures counts the proxy's own 502s.
	Redials, Failures atomic.Int64
}

func newProxy(backends []string) (*proxy, error) {
	p := &proxy{}
	for _, b := range backends {
		u, err := url.Parse(b)
		if err != nil || u.Host == "" {
			return nil, errors.New("soak: backend " + b + " is not a URL")
		}
		p.backends = append(p.backends, u)
	}
	// Like nginx's upstream keepalive: a bounded set of idle connections
	// per backend, closed after a short idle time, so that the burst of
	// connections an outage opens does not stay open on the backends.
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: time.Second}).DialContext,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     5 * time.Second,
	}
	p.rp = &httputil.ReverseProxy{
		Rewrite:   func(r *httputil.ProxyRequest) { r.Out.Host = r.In.Host },
		Transport: roundRobin{p: p, tr: tr},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			p.Failures.Add(1)
			w.Header().Set("X-Soak-Proxy", "1")
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	return p, nil
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) { p.rp.ServeHTTP(w, r) }

// roundRobin sets each outgoing request's backend.
type roundRobin struct {
	p  *proxy
	tr *http.Transport
}

func (rr roundRobin) RoundTrip(req *http.Request) (*http.Response, error) {
	n := len(rr.p.backends)
	first := rr.p.next.Add(1)
	var err error
	for i := range n {
		b := rr.p.backends[(first+uint64(i))%uint64(n)]
		// The transport itself retries a GET whose reused connection
		// broke, by dialing again: that dial error comes after the request
		// was sent, so only a dial error with no connection ever obtained
		// moves the request on.
		var connected atomic.Bool
		ctx := httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
			GotConn: func(httptrace.GotConnInfo) { connected.Store(true) },
		})
		out := req.Clone(ctx)
		out.URL.Scheme, out.URL.Host = b.Scheme, b.Host
		var resp *http.Response
		resp, err = rr.tr.RoundTrip(out)
		if err == nil || connected.Load() || !isDialError(err) || !bodyless(req) {
			return resp, err
		}
		if i+1 < n {
			rr.p.Redials.Add(1)
		}
	}
	return nil, err
}

// isDialError reports whether err is a failure to open the connection: the
// request was not sent.
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// bodyless reports whether req can be sent again as is.
func bodyless(req *http.Request) bool { return req.Body == nil || req.Body == http.NoBody }
