package redisstore

import (
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	cases := []struct {
		name     string
		url      string
		addrs    string
		cluster  bool
		master   string
		tls      bool
		user, pw string
		db       int
	}{
		{"single", "redis://127.0.0.1:6379/2", "127.0.0.1:6379", false, "", false, "", "", 2},
		{"single with ACL user", "redis://tether:s3cret@10.0.0.1:6380", "10.0.0.1:6380", false, "", false, "tether", "s3cret", 0},
		{"TLS", "rediss://tether:s3cret@redis.internal:6380", "redis.internal:6380", false, "", true, "tether", "s3cret", 0},
		{"cluster by addr", "redis://n1:7000?addr=n2:7001&addr=n3:7002", "n1:7000,n2:7001,n3:7002", true, "", false, "", "", 0},
		{"cluster by flag", "redis://:pw@n1:7000?cluster=true", "n1:7000", true, "", false, "", "pw", 0},
		{"sentinel", "redis://s1:26379?master_name=mymaster&addr=s2:26379", "s1:26379,s2:26379", false, "mymaster", false, "", "", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o, err := ParseURL(tc.url)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(o.Addrs, ","); got != tc.addrs {
				t.Errorf("Addrs: got %s, want %s", got, tc.addrs)
			}
			if o.IsClusterMode != tc.cluster || o.MasterName != tc.master || (o.TLSConfig != nil) != tc.tls {
				t.Errorf("mode: got cluster=%v master=%q tls=%v, want %v %q %v", o.IsClusterMode, o.MasterName, o.TLSConfig != nil, tc.cluster, tc.master, tc.tls)
			}
			if tc.master == "" && (o.Username != tc.user || o.Password != tc.pw) {
				t.Errorf("credentials: got %q/%q, want %q/%q", o.Username, o.Password, tc.user, tc.pw)
			}
			if o.DB != tc.db {
				t.Errorf("DB: got %d, want %d", o.DB, tc.db)
			}
		})
	}
}

func TestParseURLErrorsHidePassword(t *testing.T) {
	for _, u := range []string{
		"http://user:hunter2hunter2@host:1",
		"redis://user:hunter2hunter2@host:1?bogus_option=1",
		"redis://user:hunter2hunter2@host:1?addr=h2:2&bogus_option=1",
		"redis://user:hunter2hunter2@host:1?master_name=m&bogus_option=1",
		"redis://user:hunter2hunter2@host:notaport",
	} {
		_, err := ParseURL(u)
		if err == nil {
			t.Errorf("ParseURL(%s): got nil, want an error", strings.Replace(u, "hunter2hunter2", "***", 1))
			continue
		}
		if strings.Contains(err.Error(), "hunter2hunter2") {
			t.Errorf("error %q contains the password", err)
		}
	}
}

// Every pool and protocol parameter go-redis's URL parsers know reaches the
// client in each form (they used to be dropped, all but five).
func TestParseURLKeepsParameters(t *testing.T) {
	const params = "protocol=3&pool_size=7&pool_timeout=9s&min_idle_conns=2&max_idle_conns=5&conn_max_idle_time=1m&read_timeout=2s&max_retries=4"
	for _, u := range []string{
		"redis://127.0.0.1:6379?" + params,
		"redis://n1:7000?addr=n2:7001&" + params,
		"redis://s1:26379?master_name=m&" + params,
	} {
		t.Run(u[:strings.Index(u, "?")], func(t *testing.T) {
			o, err := ParseURL(u)
			if err != nil {
				t.Fatal(err)
			}
			got := [8]any{o.Protocol, o.PoolSize, o.PoolTimeout.String(), o.MinIdleConns, o.MaxIdleConns,
				o.ConnMaxIdleTime.String(), o.ReadTimeout.String(), o.MaxRetries}
			want := [8]any{3, 7, "9s", 2, 5, "1m0s", "2s", 4}
			if got != want {
				t.Fatalf("got %v, want %v", got, want)
			}
		})
	}
}
