package dbsc

import (
	"errors"
	"strings"
)

// This file holds the small part of RFC 8941 (Structured Field Values for
// HTTP) that DBSC needs: serializing the strings, tokens and inner lists we
// emit, and parsing one Item whose value is a String or a Token, with its
// parameters checked for syntax and then ignored. It is deliberately not a
// general implementation: every input outside that subset is refused.

// errSFV reports a structured field that does not parse; callers wrap it in
// their own error so that no header value reaches a message.
var errSFV = errors.New("malformed structured field")

// appendSFString appends s as an RFC 8941 sf-string (section 4.1.6): DQUOTE,
// with '"' and '\' escaped, DQUOTE. Only printable ASCII (0x20-0x7E) can be
// an sf-string: anything else is an error, never silently dropped.
func appendSFString(b []byte, s string) ([]byte, error) {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e {
			return nil, errSFV
		}
		if c == '"' || c == '\\' {
			b = append(b, '\\')
		}
		b = append(b, c)
	}
	return append(b, '"'), nil
}

// isTokenStart and isTokenChar follow RFC 8941 section 3.3.4:
// sf-token = ( ALPHA / "*" ) *( tchar / ":" / "/" ).
func isTokenStart(c byte) bool { return isAlpha(c) || c == '*' }

func isTokenChar(c byte) bool {
	if isAlpha(c) || isDigit(c) {
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~:/", c) >= 0
}

func isAlpha(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isToken reports whether s is a valid sf-token.
func isToken(s string) bool {
	if s == "" || !isTokenStart(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

// sfParser walks one field value. All methods leave p.i after what they read.
type sfParser struct {
	s string
	i int
}

func (p *sfParser) done() bool { return p.i >= len(p.s) }

// parseItemStringOrToken parses s as an RFC 8941 Item (section 4.2.3) whose
// bare item is a String or a Token, and returns that value. Parameters are
// parsed for syntax (any bare item type) and ignored, as the DBSC draft says
// of Sec-Secure-Session-Id and Secure-Session-Response. Leading and trailing
// spaces are discarded (section 4.2); anything else after the item (a second
// list member after a comma, say) is refused.
func parseItemStringOrToken(s string) (string, error) {
	p := &sfParser{s: strings.Trim(s, " ")}
	if p.done() {
		return "", errSFV
	}
	var v string
	var err error
	switch c := p.s[p.i]; {
	case c == '"':
		v, err = p.parseString()
	case isTokenStart(c):
		v = p.parseToken()
	default:
		return "", errSFV
	}
	if err != nil {
		return "", err
	}
	if err := p.skipParameters(); err != nil {
		return "", err
	}
	if !p.done() {
		return "", errSFV
	}
	return v, nil
}

// parseString reads an sf-string (section 4.2.5).
func (p *sfParser) parseString() (string, error) {
	p.i++ // opening DQUOTE
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		p.i++
		switch {
		case c == '\\':
			if p.i >= len(p.s) {
				return "", errSFV
			}
			n := p.s[p.i]
			p.i++
			if n != '"' && n != '\\' {
				return "", errSFV
			}
			b.WriteByte(n)
		case c == '"':
			return b.String(), nil
		case c < 0x20 || c > 0x7e:
			return "", errSFV
		default:
			b.WriteByte(c)
		}
	}
	return "", errSFV // no closing DQUOTE
}

// parseToken reads an sf-token (section 4.2.6); the first byte is checked by
// the caller.
func (p *sfParser) parseToken() string {
	start := p.i
	p.i++
	for p.i < len(p.s) && isTokenChar(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i]
}

// skipParameters reads *( ";" *SP key [ "=" bare-item ] ) (section 4.2.3.2).
func (p *sfParser) skipParameters() error {
	for p.i < len(p.s) && p.s[p.i] == ';' {
		p.i++
		for p.i < len(p.s) && p.s[p.i] == ' ' {
			p.i++
		}
		if err := p.parseKey(); err != nil {
			return err
		}
		if p.i < len(p.s) && p.s[p.i] == '=' {
			p.i++
			if err := p.skipBareItem(); err != nil {
				return err
			}
		}
	}
	return nil
}

// parseKey reads key = ( lcalpha / "*" ) *( lcalpha / DIGIT / "_" / "-" / "." / "*" ).
func (p *sfParser) parseKey() error {
	if p.done() {
		return errSFV
	}
	if c := p.s[p.i]; !(c >= 'a' && c <= 'z') && c != '*' {
		return errSFV
	}
	p.i++
	for p.i < len(p.s) {
		c := p.s[p.i]
		if !(c >= 'a' && c <= 'z') && !isDigit(c) && strings.IndexByte("_-.*", c) < 0 {
			break
		}
		p.i++
	}
	return nil
}

// skipBareItem reads one bare item of any RFC 8941 type.
func (p *sfParser) skipBareItem() error {
	if p.done() {
		return errSFV
	}
	switch c := p.s[p.i]; {
	case c == '"':
		_, err := p.parseString()
		return err
	case isTokenStart(c):
		p.parseToken()
		return nil
	case c == '-' || isDigit(c):
		return p.skipNumber()
	case c == ':':
		return p.skipByteSequence()
	case c == '?':
		if p.i+1 < len(p.s) && (p.s[p.i+1] == '0' || p.s[p.i+1] == '1') {
			p.i += 2
			return nil
		}
		return errSFV
	default:
		return errSFV
	}
}

// skipNumber reads an sf-integer (at most 15 digits) or an sf-decimal (at
// most 12 integer and 3 fractional digits), section 4.2.4.
func (p *sfParser) skipNumber() error {
	if p.s[p.i] == '-' {
		p.i++
	}
	intDigits, fracDigits, dot := 0, 0, false
digits:
	for ; p.i < len(p.s); p.i++ {
		switch c := p.s[p.i]; {
		case isDigit(c) && !dot:
			intDigits++
		case isDigit(c):
			fracDigits++
		case c == '.' && !dot:
			dot = true
		default:
			break digits
		}
	}
	switch {
	case intDigits == 0:
		return errSFV
	case !dot && intDigits > 15:
		return errSFV
	case dot && (intDigits > 12 || fracDigits == 0 || fracDigits > 3):
		return errSFV
	}
	return nil
}

// skipByteSequence reads ":" *(base64) ":" (section 4.2.7).
func (p *sfParser) skipByteSequence() error {
	p.i++
	for p.i < len(p.s) {
		c := p.s[p.i]
		p.i++
		if c == ':' {
			return nil
		}
		if !isAlpha(c) && !isDigit(c) && c != '+' && c != '/' && c != '=' {
			return errSFV
		}
	}
	return errSFV
}
