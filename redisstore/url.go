package redisstore

import (
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strings"

	"github.com/redis/go-redis/v9"
)

// ParseURL turns a Redis URL into client options, using go-redis's own
// parsers for each form:
//
//	redis://[user:password@]host:port[/db]          one node
//	rediss://[user:password@]host:port[/db]         one node over TLS
//	redis://host:port?addr=host2:port2&addr=…       Cluster (seed nodes; go-redis ParseClusterURL)
//	redis://host:port?cluster=true                  Cluster with a single seed
//	redis://host:26379?master_name=mymaster&addr=…  Sentinel (go-redis ParseFailoverURL)
//
// Errors never contain the URL, which may hold a password.
func ParseURL(raw string) (*redis.UniversalOptions, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("redisstore: the Redis URL is not a valid URL")
	}
	if u.Scheme != "redis" && u.Scheme != "rediss" && u.Scheme != "unix" {
		return nil, fmt.Errorf("redisstore: Redis URL scheme %q: want redis, rediss or unix", u.Scheme)
	}
	q := u.Query()
	switch {
	case q.Has("master_name"):
		o, err := redis.ParseFailoverURL(raw)
		if err != nil {
			return nil, fmt.Errorf("redisstore: Sentinel URL: %s", redact(err, u))
		}
		uo := &redis.UniversalOptions{Addrs: o.SentinelAddrs}
		copyOptions(uo, o)
		return uo, nil
	case q.Has("addr") || q.Get("cluster") == "true":
		q.Del("cluster")
		u.RawQuery = q.Encode()
		o, err := redis.ParseClusterURL(u.String())
		if err != nil {
			return nil, fmt.Errorf("redisstore: Cluster URL: %s", redact(err, u))
		}
		uo := &redis.UniversalOptions{Addrs: o.Addrs, IsClusterMode: true}
		copyOptions(uo, o)
		return uo, nil
	}
	o, err := redis.ParseURL(raw)
	if err != nil {
		return nil, fmt.Errorf("redisstore: Redis URL: %s", redact(err, u))
	}
	uo := &redis.UniversalOptions{Addrs: []string{o.Addr}}
	copyOptions(uo, o)
	return uo, nil
}

// copyOptions copies each exported field of src (the *redis.Options,
// *redis.ClusterOptions or *redis.FailoverOptions that go-redis's URL
// parsers fill) into dst's field of the same name and type: credentials,
// TLS, and every query parameter those parsers know (protocol, pool_size,
// pool_timeout, min_idle_conns, timeouts, retries, …) reach the client.
// Addresses differ by name between the forms and are set by the caller.
func copyOptions(dst *redis.UniversalOptions, src any) {
	d, s := reflect.ValueOf(dst).Elem(), reflect.ValueOf(src).Elem()
	for i := range s.NumField() {
		f := s.Type().Field(i)
		if !f.IsExported() || f.Name == "Addrs" {
			continue
		}
		if df := d.FieldByName(f.Name); df.IsValid() && df.CanSet() && df.Type() == f.Type {
			df.Set(s.Field(i))
		}
	}
}

// redact returns err's text with the URL's password removed.
func redact(err error, u *url.URL) string {
	msg := err.Error()
	if p, ok := u.User.Password(); ok && p != "" {
		msg = strings.ReplaceAll(msg, p, "xxxxx")
	}
	return msg
}

// Addrs returns the host:port list of opts, for messages (never a password).
func Addrs(o *redis.UniversalOptions) []string { return o.Addrs }
