package sqlmigrate

import (
	"testing"
	"testing/fstest"
)

// Files must be numbered 0001_, 0002_… without gaps.
func TestRead(t *testing.T) {
	cases := []struct {
		name    string
		fsys    fstest.MapFS
		want    []string
		wantErr bool
	}{
		{"none", fstest.MapFS{}, nil, false},
		{"in order", fstest.MapFS{"m/0002_b.sql": {}, "m/0001_a.sql": {}, "m/README": {}}, []string{"0001_a.sql", "0002_b.sql"}, false},
		{"a gap", fstest.MapFS{"m/0001_a.sql": {}, "m/0003_c.sql": {}}, nil, true},
		{"not starting at 1", fstest.MapFS{"m/0002_b.sql": {}}, nil, true},
		{"unnumbered", fstest.MapFS{"m/first.sql": {}}, nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Read(tc.fsys, "m")
			if tc.wantErr {
				if err == nil {
					t.Fatalf("got %v, want a numbering error", got)
				}
				return
			}
			if err != nil || len(got) != len(tc.want) {
				t.Fatalf("got %v (%v), want %v", got, err, tc.want)
			}
			for i, m := range got {
				if m.Name != tc.want[i] || m.Version != i+1 {
					t.Errorf("migration %d: got %s version %d, want %s version %d", i, m.Name, m.Version, tc.want[i], i+1)
				}
			}
		})
	}
}
