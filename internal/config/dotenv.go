package config

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// MaxDotenvBytes bounds the .env file: a larger file is refused rather than
// read into memory.
const MaxDotenvBytes = 1 << 20

// readDotenv reads KEY=VALUE lines from path. An empty path or a missing file
// yields no values. Errors name the file and the line, never a value (values
// are secrets).
func readDotenv(path string) (map[string]string, error) {
	if path == "" {
		return map[string]string{}, nil
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxDotenvBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(b) > MaxDotenvBytes {
		return nil, fmt.Errorf("%s is larger than %d bytes; a .env file holds a few settings", path, MaxDotenvBytes)
	}
	vals, err := parseDotenv(string(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return vals, nil
}

// parseDotenv parses the .env format:
//
//   - one KEY=VALUE per line; KEY is letters, digits and _, not starting with
//     a digit; spaces around KEY and "=" are ignored; the last of several
//     lines with one KEY wins;
//   - blank lines and lines starting with # are skipped; a UTF-8 byte order
//     mark and CRLF line ends are accepted;
//   - an optional "export " before KEY is ignored (shell compatibility);
//   - 'single-quoted' values are literal;
//   - "double-quoted" values understand \n, \r, \t, \" and \\; any other
//     backslash is kept as is (so "C:\dir" stays C:\dir);
//   - after a closing quote only spaces and a # comment may follow;
//   - an unquoted value is trimmed and ends at a # that follows a space
//     (KEY=a#b is "a#b", KEY=a #b is "a", KEY= #b is "").
//
// Values cannot span lines. Errors name the line (and the KEY when it is
// known) but never contain a value.
func parseDotenv(s string) (map[string]string, error) {
	s = strings.TrimPrefix(s, "\uFEFF")
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 0, 4096), MaxDotenvBytes+1)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text()) // ScanLines drops a CR before LF
		if line == "" || line[0] == '#' {
			continue
		}
		if rest, ok := strings.CutPrefix(line, "export"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
			line = strings.TrimSpace(rest)
		}
		key, val, ok := strings.Cut(line, "=")
		key = strings.TrimSpace(key)
		if !ok || !validKey(key) {
			return nil, fmt.Errorf("line %d: want KEY=VALUE with KEY made of letters, digits and _ (not starting with a digit)", n)
		}
		v, err := dotenvValue(val)
		if err != nil {
			return nil, fmt.Errorf("line %d (%s): %v", n, key, err)
		}
		out[key] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %v", n+1, err)
	}
	return out, nil
}

func validKey(k string) bool {
	if k == "" || (k[0] >= '0' && k[0] <= '9') {
		return false
	}
	for _, c := range []byte(k) {
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// dotenvValue decodes the text after "=". Its errors never quote the text.
func dotenvValue(raw string) (string, error) {
	v := strings.TrimLeft(raw, " \t")
	switch {
	case v == "":
		return "", nil
	case v[0] == '#' && len(v) < len(raw):
		return "", nil // "KEY= # comment"
	case v[0] == '\'':
		end := strings.IndexByte(v[1:], '\'')
		if end < 0 {
			return "", errors.New("single-quoted value has no closing quote")
		}
		if !onlyComment(v[end+2:]) {
			return "", errors.New("text after the closing single quote (only a # comment may follow)")
		}
		return v[1 : end+1], nil
	case v[0] == '"':
		var b strings.Builder
		for i := 1; i < len(v); i++ {
			c := v[i]
			switch {
			case c == '\\' && i+1 < len(v):
				switch v[i+1] {
				case 'n':
					b.WriteByte('\n')
				case 'r':
					b.WriteByte('\r')
				case 't':
					b.WriteByte('\t')
				case '"', '\\':
					b.WriteByte(v[i+1])
				default:
					b.WriteByte('\\')
					continue // v[i+1] is an ordinary character
				}
				i++
			case c == '"':
				if !onlyComment(v[i+1:]) {
					return "", errors.New("text after the closing double quote (only a # comment may follow)")
				}
				return b.String(), nil
			default:
				b.WriteByte(c)
			}
		}
		return "", errors.New("double-quoted value has no closing quote (values cannot span lines)")
	}
	if i := strings.Index(v, " #"); i >= 0 {
		v = v[:i]
	}
	if i := strings.Index(v, "\t#"); i >= 0 {
		v = v[:i]
	}
	return strings.TrimSpace(v), nil
}

// onlyComment reports whether rest is blank or a # comment.
func onlyComment(rest string) bool {
	rest = strings.TrimLeft(rest, " \t")
	return rest == "" || rest[0] == '#'
}
