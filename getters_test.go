package tether_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tetherhq/tether"
	"github.com/tetherhq/tether/memstore"
)

// patchStore records the patches the Manager saves, on top of a memstore.
type patchStore struct {
	tether.Store
	mu      sync.Mutex
	patches []tether.Patch
	down    bool
}

func (p *patchStore) Update(ctx context.Context, k string, now time.Time, patch *tether.Patch) (*tether.Record, error) {
	p.mu.Lock()
	p.patches = append(p.patches, clonePatch(patch))
	down := p.down
	p.mu.Unlock()
	if down {
		return nil, errDown
	}
	return p.Store.Update(ctx, k, now, patch)
}

func (p *patchStore) Load(ctx context.Context, k string, now, idle time.Time) (*tether.Record, error) {
	p.mu.Lock()
	down := p.down
	p.mu.Unlock()
	if down {
		return nil, errDown
	}
	return p.Store.Load(ctx, k, now, idle)
}

func (p *patchStore) setDown(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
}

// takePatches returns the patches saved since the last call.
func (p *patchStore) takePatches() []tether.Patch {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.patches
	p.patches = nil
	return out
}

func clonePatch(p *tether.Patch) tether.Patch {
	c := tether.Patch{Delete: slices.Clone(p.Delete)}
	if p.Set != nil {
		c.Set = map[string]json.RawMessage{}
		for k, v := range p.Set {
			c.Set[k] = slices.Clone(v)
		}
	}
	if p.Incr != nil {
		c.Incr = map[string]int64{}
		for k, v := range p.Incr {
			c.Incr[k] = v
		}
	}
	return c
}

// dataClient plays one browser against a Manager: each run serves one
// request whose handler is fn, sending the session cookie it was last given.
type dataClient struct {
	t      *testing.T
	m      *tether.Manager
	store  *patchStore
	cookie *http.Cookie
}

func newDataClient(t *testing.T, mod func(*tether.Config)) *dataClient {
	t.Helper()
	store := &patchStore{Store: memstore.New()}
	cfg := tether.Config{Store: store, Secrets: [][]byte{secretA}}
	if mod != nil {
		mod(&cfg)
	}
	m, err := tether.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return &dataClient{t: t, m: m, store: store}
}

// run serves one request with fn as the handler and keeps the cookie the
// response sets.
func (c *dataClient) run(fn func(w http.ResponseWriter, s *tether.Session)) *httptest.ResponseRecorder {
	c.t.Helper()
	rec := c.serve(c.request(), fn)
	c.keepCookie(rec)
	return rec
}

func (c *dataClient) request() *http.Request {
	req := httptest.NewRequest("GET", "/", nil)
	if c.cookie != nil {
		req.AddCookie(c.cookie)
	}
	return req
}

func (c *dataClient) serve(req *http.Request, fn func(w http.ResponseWriter, s *tether.Session)) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	c.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fn(w, tether.FromContext(r.Context()))
	})).ServeHTTP(rec, req)
	return rec
}

func (c *dataClient) keepCookie(rec *httptest.ResponseRecorder) {
	for _, k := range rec.Result().Cookies() {
		if k.Name == c.m.CookieName() {
			if k.MaxAge < 0 {
				c.cookie = nil
			} else {
				c.cookie = k
			}
		}
	}
}

// set stores values in one request and fails the test on any error.
func (c *dataClient) set(values map[string]any) {
	c.t.Helper()
	c.run(func(w http.ResponseWriter, s *tether.Session) {
		for k, v := range values {
			if err := s.Set(k, v); err != nil {
				c.t.Errorf("Set(%q, %#v): %v", k, v, err)
			}
		}
	})
	c.store.takePatches()
}

// intOr0 is n as an int, 0 where an int cannot hold it (GetInt's rule).
func intOr0(n int64) int {
	if int64(int(n)) != n {
		return 0
	}
	return int(n)
}

// sameValue compares getter results: floats by bits (-0 is not 0), times by
// instant and offset, byte slices with nil and empty apart.
func sameValue(got, want any) bool {
	switch w := want.(type) {
	case float64:
		g, ok := got.(float64)
		return ok && math.Float64bits(g) == math.Float64bits(w)
	case time.Time:
		g, ok := got.(time.Time)
		return ok && g.Equal(w) && g.Format(time.RFC3339Nano) == w.Format(time.RFC3339Nano)
	default:
		return reflect.DeepEqual(got, want)
	}
}

// Every typed getter, on values stored by Set in one request and read in the
// next one (so through the store): missing, null, another type, its type, and
// edge values.
func TestTypedGetters(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	india := time.FixedZone("IST", 5*3600+1800)
	c := newDataClient(t, nil)
	c.set(map[string]any{
		"str":       "alice",
		"html":      "<b>&</b>",
		"badutf8":   "a\xffb",
		"emptystr":  "",
		"true":      true,
		"false":     false,
		"int":       42,
		"neg":       -7,
		"beyond53":  int64(1)<<53 + 1,
		"maxint64":  int64(math.MaxInt64),
		"minint64":  int64(math.MinInt64),
		"maxuint64": uint64(math.MaxUint64),
		"float":     2.5,
		"intfloat":  3.0,
		"tiny":      math.SmallestNonzeroFloat64,
		"huge":      math.MaxFloat64,
		"negzero":   math.Copysign(0, -1),
		"utc":       time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC),
		"paris":     time.Date(2026, 1, 2, 3, 4, 5, 0, paris),
		"india":     time.Date(2026, 7, 1, 23, 59, 59, 1, india),
		"zerotime":  time.Time{},
		"bytes":     []byte{0, 1, 2, 0xfe, 0xff},
		"emptybyte": []byte{},
		"nilbytes":  []byte(nil),
		"null":      nil,
		"list":      []string{"a"},
		"numstr":    "42",
		"timestr":   "2026-01-02 03:04:05",
		"b64str":    "aGk=",
	})
	var (
		getString  = func(s *tether.Session, k string) any { return s.GetString(k) }
		getBool    = func(s *tether.Session, k string) any { return s.GetBool(k) }
		getInt     = func(s *tether.Session, k string) any { return s.GetInt(k) }
		getInt64   = func(s *tether.Session, k string) any { return s.GetInt64(k) }
		getFloat64 = func(s *tether.Session, k string) any { return s.GetFloat64(k) }
		getTime    = func(s *tether.Session, k string) any { return s.GetTime(k) }
		getBytes   = func(s *tether.Session, k string) any { return s.GetBytes(k) }
	)
	tests := []struct {
		getter string
		get    func(*tether.Session, string) any
		key    string
		want   any
	}{
		{"GetString", getString, "missing", ""},
		{"GetString", getString, "null", ""},
		{"GetString", getString, "int", ""},
		{"GetString", getString, "true", ""},
		{"GetString", getString, "bytes", "AAEC/v8="}, // a []byte is a base64 string
		{"GetString", getString, "str", "alice"},
		{"GetString", getString, "emptystr", ""},
		{"GetString", getString, "html", "<b>&</b>"}, // stored escaped as \u003c…
		{"GetString", getString, "badutf8", "a\uFFFDb"},

		{"GetBool", getBool, "missing", false},
		{"GetBool", getBool, "null", false},
		{"GetBool", getBool, "str", false},
		{"GetBool", getBool, "int", false},
		{"GetBool", getBool, "true", true},
		{"GetBool", getBool, "false", false},

		{"GetInt", getInt, "missing", 0},
		{"GetInt", getInt, "null", 0},
		{"GetInt", getInt, "numstr", 0},
		{"GetInt", getInt, "float", 0},
		{"GetInt", getInt, "int", 42},
		{"GetInt", getInt, "neg", -7},
		{"GetInt", getInt, "intfloat", 3},
		{"GetInt", getInt, "beyond53", intOr0(int64(1)<<53 + 1)}, // 0 where int has 32 bits
		{"GetInt", getInt, "maxuint64", 0},

		{"GetInt64", getInt64, "missing", int64(0)},
		{"GetInt64", getInt64, "null", int64(0)},
		{"GetInt64", getInt64, "numstr", int64(0)},
		{"GetInt64", getInt64, "float", int64(0)},
		{"GetInt64", getInt64, "huge", int64(0)},
		{"GetInt64", getInt64, "int", int64(42)},
		{"GetInt64", getInt64, "intfloat", int64(3)},
		{"GetInt64", getInt64, "beyond53", int64(1)<<53 + 1},
		{"GetInt64", getInt64, "maxint64", int64(math.MaxInt64)},
		{"GetInt64", getInt64, "minint64", int64(math.MinInt64)},
		{"GetInt64", getInt64, "maxuint64", int64(0)},

		{"GetFloat64", getFloat64, "missing", 0.0},
		{"GetFloat64", getFloat64, "null", 0.0},
		{"GetFloat64", getFloat64, "numstr", 0.0},
		{"GetFloat64", getFloat64, "true", 0.0},
		{"GetFloat64", getFloat64, "float", 2.5},
		{"GetFloat64", getFloat64, "int", 42.0},
		{"GetFloat64", getFloat64, "beyond53", float64(1 << 53)}, // rounded
		{"GetFloat64", getFloat64, "tiny", math.SmallestNonzeroFloat64},
		{"GetFloat64", getFloat64, "huge", math.MaxFloat64},
		{"GetFloat64", getFloat64, "negzero", math.Copysign(0, -1)},

		{"GetTime", getTime, "missing", time.Time{}},
		{"GetTime", getTime, "null", time.Time{}},
		{"GetTime", getTime, "int", time.Time{}},
		{"GetTime", getTime, "timestr", time.Time{}},
		{"GetTime", getTime, "utc", time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)},
		{"GetTime", getTime, "paris", time.Date(2026, 1, 2, 3, 4, 5, 0, paris)},
		{"GetTime", getTime, "india", time.Date(2026, 7, 1, 23, 59, 59, 1, india)},
		{"GetTime", getTime, "zerotime", time.Time{}},

		{"GetBytes", getBytes, "missing", []byte(nil)},
		{"GetBytes", getBytes, "null", []byte(nil)},
		{"GetBytes", getBytes, "int", []byte(nil)},
		{"GetBytes", getBytes, "str", []byte(nil)}, // "alice" is not base64
		{"GetBytes", getBytes, "bytes", []byte{0, 1, 2, 0xfe, 0xff}},
		{"GetBytes", getBytes, "emptybyte", []byte{}},
		{"GetBytes", getBytes, "nilbytes", []byte(nil)},
		{"GetBytes", getBytes, "b64str", []byte("hi")}, // any base64 string reads as bytes
	}
	c.run(func(w http.ResponseWriter, s *tether.Session) {
		for _, tt := range tests {
			t.Run(tt.getter+"/"+tt.key, func(t *testing.T) {
				if got := tt.get(s, tt.key); !sameValue(got, tt.want) {
					t.Errorf("%s(%q): got %#v, want %#v", tt.getter, tt.key, got, tt.want)
				}
			})
		}
	})
	if p := c.store.takePatches(); len(p) != 0 {
		t.Errorf("reading saved %d patches, want none", len(p))
	}
}

// GetTime keeps the instant and the offset, not the zone's name.
func TestGetTimeKeepsOffsetNotZoneName(t *testing.T) {
	c := newDataClient(t, nil)
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("CET", 3600))
	c.set(map[string]any{"t": at})
	c.run(func(w http.ResponseWriter, s *tether.Session) {
		got := s.GetTime("t")
		name, off := got.Zone()
		if !got.Equal(at) || off != 3600 {
			t.Errorf("GetTime: got %v (offset %d), want %v (offset 3600)", got, off, at)
		}
		if name == "CET" {
			t.Errorf("GetTime kept the zone name %q; the docs say it is lost", name)
		}
	})
}

// Values that JSON cannot hold are refused by Set, and nothing is stored.
func TestSetRefusesValuesJSONCannotHold(t *testing.T) {
	tests := []struct {
		name string
		v    any
	}{
		{"NaN", math.NaN()},
		{"+Inf", math.Inf(1)},
		{"-Inf", math.Inf(-1)},
		{"year 10000", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"negative year", time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"channel", make(chan int)},
		{"func", func() {}},
		{"complex", complex(1, 2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newDataClient(t, nil)
			c.run(func(w http.ResponseWriter, s *tether.Session) {
				if err := s.Set("v", tt.v); err == nil {
					t.Errorf("Set(%v): got nil error, want one", tt.name)
				}
				if keys := s.Keys(); len(keys) != 0 {
					t.Errorf("keys after a refused Set: got %q, want none", keys)
				}
			})
		})
	}
}

// Get tells a missing key from a value of another type, which the typed
// getters (zero either way) do not.
func TestGetTellsMissingFromWrongType(t *testing.T) {
	c := newDataClient(t, nil)
	c.set(map[string]any{"n": 7, "s": "seven"})
	tests := []struct {
		key       string
		wantFound bool
		wantErr   bool
		want      int64
	}{
		{"missing", false, false, 0},
		{"s", true, true, 0},
		{"n", true, false, 7},
	}
	c.run(func(w http.ResponseWriter, s *tether.Session) {
		for _, tt := range tests {
			var n int64
			found, err := s.Get(tt.key, &n)
			var typeErr *json.UnmarshalTypeError
			if found != tt.wantFound || (err != nil) != tt.wantErr || (tt.wantErr && !errors.As(err, &typeErr)) || n != tt.want {
				t.Errorf("Get(%q): got %v, %v, %d; want %v, error %v, %d", tt.key, found, err, n, tt.wantFound, tt.wantErr, tt.want)
			}
			if s.GetInt64(tt.key) != tt.want {
				t.Errorf("GetInt64(%q): got %d, want %d", tt.key, s.GetInt64(tt.key), tt.want)
			}
		}
	})
}

// During a store outage the getters read as empty, Err says why, and the
// middleware answers 503 whatever the handler writes.
func TestGettersDuringStoreOutage(t *testing.T) {
	c := newDataClient(t, nil)
	c.set(map[string]any{"s": "x", "n": 1})
	c.store.setDown(true)
	rec := c.run(func(w http.ResponseWriter, s *tether.Session) {
		if got := s.GetString("s"); got != "" {
			t.Errorf("GetString during an outage: got %q, want empty", got)
		}
		if got := s.GetInt64("n"); got != 0 {
			t.Errorf("GetInt64 during an outage: got %d, want 0", got)
		}
		if err := s.Err(); !errors.Is(err, tether.ErrStoreUnavailable) {
			t.Errorf("Err during an outage: got %v, want ErrStoreUnavailable", err)
		}
		_, _ = w.Write([]byte("page"))
	})
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("status during an outage: got %d, want 503", rec.Code)
	}
}
