package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// writeJSON encodes into pooled buffers: every answer must still be exactly
// json.Marshal's bytes and a newline, whatever the answer before it left in
// the buffer (a long one followed by a short one, HTML-escaped characters,
// an answer too big to go back to the pool).
func TestWriteJSONBytes(t *testing.T) {
	long := strings.Repeat("x", maxPooledJSON+10)
	cases := []struct {
		name string
		v    any
	}{
		{"long first", map[string]string{"a": strings.Repeat("y", 500)}},
		{"short after long", struct {
			UserID string `json:"userId"`
		}{"user-1001"}},
		{"html escaped", map[string]string{"q": "<script>&'\u2028"}},
		{"beyond the pool", map[string]string{"big": long}},
		{"after the big one", []int{1, 2, 3}},
		{"nil", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			writeJSON(rec, http.StatusCreated, tc.v)
			want, err := json.Marshal(tc.v)
			if err != nil {
				t.Fatal(err)
			}
			if got := rec.Body.String(); got != string(want)+"\n" {
				t.Errorf("got %.80q, want %.80q", got, string(want)+"\n")
			}
			if rec.Code != http.StatusCreated || rec.Header().Get("Content-Type") != jsonType[0] {
				t.Errorf("got %d %q, want 201 %q", rec.Code, rec.Header().Get("Content-Type"), jsonType[0])
			}
		})
	}
	t.Run("unencodable", func(t *testing.T) {
		rec := httptest.NewRecorder()
		writeJSON(rec, http.StatusOK, map[string]any{"f": func() {}})
		if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), `"f"`) {
			t.Errorf("got %d %q, want 500 without a partial answer", rec.Code, rec.Body)
		}
	})
}
