package dbsc

import (
	"strings"
	"testing"
)

func TestInstructionsMarshal(t *testing.T) {
	cred := []Credential{{Name: "bound", Attributes: "Path=/; Secure; HttpOnly; SameSite=Lax"}}
	cases := []struct {
		name    string
		in      Instructions
		want    string
		wantErr string
	}{
		{"the answer Chromium 156 accepted", Instructions{SessionIdentifier: "s1", RefreshURL: "/dbsc/refresh", Credentials: cred},
			`{"session_identifier":"s1","refresh_url":"/dbsc/refresh","scope":{"include_site":false},"credentials":[{"type":"cookie","name":"bound","attributes":"Path=/; Secure; HttpOnly; SameSite=Lax"}]}`, ""},
		{"scope rules and origin", Instructions{SessionIdentifier: "s1", Credentials: []Credential{{Name: "b"}},
			Scope: Scope{Origin: "https://example.com", IncludeSite: true, Rules: []ScopeRule{{Type: "exclude", Path: "/static"}}}},
			`{"session_identifier":"s1","scope":{"origin":"https://example.com","include_site":true,"scope_specification":[{"type":"exclude","path":"/static"}]},"credentials":[{"type":"cookie","name":"b"}]}`, ""},
		{"no identifier", Instructions{Credentials: cred}, "", "session_identifier"},
		{"identifier not a token", Instructions{SessionIdentifier: "1 2", Credentials: cred}, "", "session_identifier"},
		{"no credentials", Instructions{SessionIdentifier: "s1"}, "", "at least one credential"},
		{"bad cookie name", Instructions{SessionIdentifier: "s1", Credentials: []Credential{{Name: "a=b"}}}, "", "cookie name"},
		{"partitioned", Instructions{SessionIdentifier: "s1", Credentials: []Credential{{Name: "b", Attributes: "Path=/; partitioned"}}}, "", "Partitioned"},
		{"bad rule type", Instructions{SessionIdentifier: "s1", Credentials: cred, Scope: Scope{Rules: []ScopeRule{{Type: "allow"}}}}, "", "include or exclude"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.in.Marshal()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %s, %v; want an error about %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || string(got) != tc.want {
				t.Fatalf("got %s, %v;\nwant %s", got, err, tc.want)
			}
		})
	}
}

func TestEndSession(t *testing.T) {
	got, err := EndSession("s1")
	if want := `{"session_identifier":"s1","continue":false}`; err != nil || string(got) != want {
		t.Fatalf("got %s, %v; want %s", got, err, want)
	}
	if _, err := EndSession(""); err == nil {
		t.Fatal("EndSession(\"\"): got no error, want one")
	}
}
