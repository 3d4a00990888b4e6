package server

import (
	"strings"
	"testing"
)

func TestPrefersHTML(t *testing.T) {
	cases := []struct {
		name, accept string
		want         bool
	}{
		{"chromium navigation", "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7", true},
		{"firefox navigation", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", true},
		{"curl", "*/*", false},
		{"fetch default", "*/*", false},
		{"none", "", false},
		{"api client", "application/json", false},
		{"json preferred", "text/html;q=0.5, application/json", false},
		{"html only", "text/html", true},
		{"text wildcard", "text/*", true},
		{"tie", "text/html, application/json", false},
		{"html refused by its own range", "text/html;q=0, */*", false},
		{"specific range wins over a higher wildcard", "text/html;q=0.1, */*;q=1, application/json;q=0.05", true},
		{"case and spaces", " TEXT/HTML ; Q=1 , application/json ; q=0.2", true},
		{"malformed q counts as zero", "text/html;q=abc, application/json;q=0.1", false},
		{"q above one counts as zero", "text/html;q=7", false},
		{"no slash ignored", "html, */*;q=0.1", false},
		{"overlong header judged on its start", "text/html," + strings.Repeat("x", 2000) + ",application/json", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := prefersHTML(tc.accept); got != tc.want {
				t.Errorf("prefersHTML(%q): got %v, want %v", tc.accept, got, tc.want)
			}
		})
	}
}

// FuzzPrefersHTML: any header is judged without a panic, a quality stays in
// [0, 1000], and "*/*" alone never turns an API client into a browser.
func FuzzPrefersHTML(f *testing.F) {
	for _, s := range []string{"text/html,*/*;q=0.8", "*/*", "", "text/html;q=0.5, application/json", ";;,,/;q=", "text/*;q=NaN"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, accept string) {
		for _, tq := range [][2]string{{"text", "html"}, {"application", "json"}} {
			if q := acceptQuality(accept, tq[0], tq[1]); q < 0 || q > 1000 {
				t.Fatalf("acceptQuality(%q, %s/%s): got %d, want 0..1000", accept, tq[0], tq[1], q)
			}
		}
		prefersHTML(accept)
		if !strings.Contains(strings.ToLower(accept), "text/") && prefersHTML(accept) {
			t.Fatalf("prefersHTML(%q): got true without a text/ range", accept)
		}
	})
}
