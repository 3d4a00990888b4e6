package secheaders

import (
	"fmt"
	"strings"
)

// CSP is a Content-Security-Policy. Directives keep their order.
type CSP struct {
	// Directives are name/source-list pairs, e.g. {"script-src", "'self'"}.
	Directives []Directive
	// Nonce adds a fresh 'nonce-…' source to script-src and style-src on
	// every response (see Nonce).
	Nonce bool
	// ReportOnly sends Content-Security-Policy-Report-Only instead.
	ReportOnly bool
}

// compiledCSP is a validated CSP, rendered once.
type compiledCSP struct {
	header string
	parts  []string // "name sources" per directive
	nonced []bool   // whether a directive takes the nonce
	nonce  bool
	// With a nonce, the value is pieces[0] + nonce + pieces[1] + nonce + …:
	// one concatenation per response.
	pieces []string
	size   int // total length of pieces
}

// Directive is one CSP directive.
type Directive struct {
	Name    string
	Sources []string
}

// DefaultCSP is the policy of the package doc, with a nonce.
func DefaultCSP(production bool) *CSP {
	c := &CSP{Nonce: true, Directives: []Directive{
		{"default-src", []string{"'self'"}},
		{"base-uri", []string{"'none'"}},
		{"object-src", []string{"'none'"}},
		{"frame-ancestors", []string{"'none'"}},
		{"form-action", []string{"'self'"}},
		{"img-src", []string{"'self'", "data:"}},
		{"font-src", []string{"'self'"}},
		{"script-src", []string{"'self'"}},
		{"script-src-attr", []string{"'none'"}},
		{"style-src", []string{"'self'"}},
	}}
	if production {
		c.Directives = append(c.Directives, Directive{Name: "upgrade-insecure-requests"})
	}
	return c
}

func (c *CSP) compile() (*compiledCSP, error) {
	out := &compiledCSP{header: "Content-Security-Policy", nonce: c.Nonce}
	if c.ReportOnly {
		out.header = "Content-Security-Policy-Report-Only"
	}
	seen := map[string]bool{}
	for _, d := range c.Directives {
		if d.Name == "" || strings.ContainsAny(d.Name, " ;,\r\n'\"") {
			return nil, fmt.Errorf("secheaders: CSP directive name %q is invalid", d.Name)
		}
		if seen[d.Name] {
			return nil, fmt.Errorf("secheaders: CSP directive %q appears twice", d.Name)
		}
		seen[d.Name] = true
		for _, s := range d.Sources {
			if s == "" || strings.ContainsAny(s, " ;,\r\n") {
				return nil, fmt.Errorf("secheaders: CSP source %q of %s is invalid", s, d.Name)
			}
		}
		out.parts = append(out.parts, strings.TrimSpace(d.Name+" "+strings.Join(d.Sources, " ")))
		out.nonced = append(out.nonced, d.Name == "script-src" || d.Name == "style-src")
	}
	if len(out.parts) == 0 {
		return nil, fmt.Errorf("secheaders: CSP has no directives")
	}
	var cur strings.Builder
	for i, p := range out.parts {
		if i > 0 {
			cur.WriteString("; ")
		}
		cur.WriteString(p)
		if out.nonced[i] {
			cur.WriteString(" 'nonce-")
			out.pieces = append(out.pieces, cur.String())
			cur.Reset()
			cur.WriteString("'")
		}
	}
	out.pieces = append(out.pieces, cur.String())
	for _, p := range out.pieces {
		out.size += len(p)
	}
	return out, nil
}

// value renders the policy, adding nonce to script-src and style-src.
func (c *compiledCSP) value(nonce string) string {
	if nonce == "" {
		return strings.Join(c.parts, "; ")
	}
	var b strings.Builder
	b.Grow(c.size + (len(c.pieces)-1)*len(nonce))
	for i, p := range c.pieces {
		if i > 0 {
			b.WriteString(nonce)
		}
		b.WriteString(p)
	}
	return b.String()
}
