package dbsc

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Instructions is the JSON answer of a registration (and, optionally, of a
// refresh): the draft's "JSON session instructions" (section 9.6). The
// short-lived cookie itself goes in an ordinary Set-Cookie of the same
// response.
type Instructions struct {
	// SessionIdentifier names the binding; the browser repeats it in
	// Sec-Secure-Session-Id. Required: an sf-token of at most 128 bytes
	// (see [NewSessionIdentifier]), so both header forms carry it.
	SessionIdentifier string
	// RefreshURL is where refreshes go, absolute or relative to the
	// request ("/dbsc/refresh"). Empty: the registration URL.
	RefreshURL string
	// Scope is the set of URLs the binding covers.
	Scope Scope
	// Credentials are the bound cookies. At least one is required.
	Credentials []Credential
}

// Scope is the draft's "JSON session scope" (section 9.7).
type Scope struct {
	// Origin, when set, is the origin the session applies to; empty means
	// the origin of the URL serving the instructions.
	Origin string
	// IncludeSite makes the session cover the whole site (every subdomain)
	// instead of one origin. The browser then checks .well-known; false is
	// the safe default.
	IncludeSite bool
	// Rules refine the scope ("scope_specification").
	Rules []ScopeRule
}

// ScopeRule is one "JSON session scope rule" (section 9.8).
type ScopeRule struct {
	Type   string // "include" or "exclude"
	Domain string // empty: "*"
	Path   string // empty: "/"
}

// Credential is one bound cookie, a "JSON session credential" (section
// 9.9). The browser refreshes the session when a request in scope lacks a
// cookie of this name whose Domain, Path, Secure, HttpOnly and SameSite
// match Attributes.
type Credential struct {
	Name string
	// Attributes as in Set-Cookie, for example
	// "Path=/; Secure; HttpOnly; SameSite=Lax". Partitioned is refused
	// (the draft forbids it).
	Attributes string
}

// Marshal validates in and returns its JSON:
//
//	{"session_identifier":"…","refresh_url":"…","scope":{"include_site":false,
//	 "scope_specification":[…]},"credentials":[{"type":"cookie","name":"…","attributes":"…"}]}
//
// Empty optional fields are left out. A misconfiguration is an error, not a
// JSON that Chromium would turn into "terminate the session".
func (in Instructions) Marshal() ([]byte, error) {
	if !validIdentifier(in.SessionIdentifier) {
		return nil, errors.New("dbsc: session_identifier must be an sf-token of at most 128 bytes")
	}
	if len(in.Credentials) == 0 {
		return nil, errors.New("dbsc: instructions need at least one credential")
	}
	type rule struct {
		Type   string `json:"type"`
		Domain string `json:"domain,omitempty"`
		Path   string `json:"path,omitempty"`
	}
	type scope struct {
		Origin        string `json:"origin,omitempty"`
		IncludeSite   bool   `json:"include_site"`
		Specification []rule `json:"scope_specification,omitempty"`
	}
	type credential struct {
		Type       string `json:"type"`
		Name       string `json:"name"`
		Attributes string `json:"attributes,omitempty"`
	}
	out := struct {
		SessionIdentifier string       `json:"session_identifier"`
		RefreshURL        string       `json:"refresh_url,omitempty"`
		Scope             scope        `json:"scope"`
		Credentials       []credential `json:"credentials"`
	}{
		SessionIdentifier: in.SessionIdentifier,
		RefreshURL:        in.RefreshURL,
		Scope:             scope{Origin: in.Scope.Origin, IncludeSite: in.Scope.IncludeSite},
	}
	for _, r := range in.Scope.Rules {
		if r.Type != "include" && r.Type != "exclude" {
			return nil, fmt.Errorf("dbsc: scope rule type %q is not include or exclude", r.Type)
		}
		out.Scope.Specification = append(out.Scope.Specification, rule(r))
	}
	for _, c := range in.Credentials {
		if !validCookieName(c.Name) {
			return nil, fmt.Errorf("dbsc: credential name %q is not a cookie name", c.Name)
		}
		for _, a := range strings.Split(c.Attributes, ";") {
			if strings.EqualFold(strings.TrimSpace(a), "Partitioned") {
				return nil, errors.New("dbsc: a bound cookie cannot be Partitioned")
			}
		}
		out.Credentials = append(out.Credentials, credential{Type: "cookie", Name: c.Name, Attributes: c.Attributes})
	}
	return json.Marshal(out)
}

// EndSession returns the instructions that end the browser's DBSC session
// with this identifier: {"session_identifier":"…","continue":false}. A 4xx
// answer to a refresh ends it too (see the package documentation); this
// form says so on a 200.
func EndSession(sessionIdentifier string) ([]byte, error) {
	if !validIdentifier(sessionIdentifier) {
		return nil, errors.New("dbsc: session_identifier must be an sf-token of at most 128 bytes")
	}
	return json.Marshal(struct {
		SessionIdentifier string `json:"session_identifier"`
		Continue          bool   `json:"continue"`
	}{sessionIdentifier, false})
}

// validCookieName reports whether name is an RFC 6265 cookie-name (a token).
func validCookieName(name string) bool {
	if name == "" || len(name) > 256 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !isAlpha(c) && !isDigit(c) && strings.IndexByte("!#$%&'*+-.^_`|~", c) < 0 {
			return false
		}
	}
	return true
}
