package config

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// maxDotenvBytes bounds the .env file.
const maxDotenvBytes = 1 << 20

// readDotenv reads KEY=VALUE lines from path. A missing file yields no
// values. Errors name the line, never its value (values are secrets).
func readDotenv(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxDotenvBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(b) > maxDotenvBytes {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, maxDotenvBytes)
	}
	vals, err := parseDotenv(string(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return vals, nil
}

// parseDotenv parses the .env format: KEY=VALUE lines, blank lines and
// # comments, an optional "export " prefix, and values optionally in single
// quotes (literal) or double quotes (with \n, \" and \\ escapes). An unquoted
// value ends at " #" (an inline comment) and is trimmed.
func parseDotenv(s string) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 64<<10), maxDotenvBytes)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(strings.TrimSuffix(sc.Text(), "\r"))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		key, val, ok := strings.Cut(line, "=")
		key = strings.TrimSpace(key)
		if !ok || !validKey(key) {
			return nil, fmt.Errorf("line %d: want KEY=VALUE with KEY made of letters, digits and _", n)
		}
		v, err := unquote(strings.TrimSpace(val))
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

func unquote(v string) (string, error) {
	switch {
	case v == "":
		return "", nil
	case v[0] == '\'':
		end := strings.IndexByte(v[1:], '\'')
		if end < 0 || strings.TrimSpace(v[end+2:]) != "" && !strings.HasPrefix(strings.TrimSpace(v[end+2:]), "#") {
			return "", errors.New("unterminated or trailing text after single-quoted value")
		}
		return v[1 : end+1], nil
	case v[0] == '"':
		var b strings.Builder
		for i := 1; i < len(v); i++ {
			c := v[i]
			switch {
			case c == '\\' && i+1 < len(v):
				i++
				switch v[i] {
				case 'n':
					b.WriteByte('\n')
				case 't':
					b.WriteByte('\t')
				default:
					b.WriteByte(v[i])
				}
			case c == '"':
				rest := strings.TrimSpace(v[i+1:])
				if rest != "" && !strings.HasPrefix(rest, "#") {
					return "", errors.New("trailing text after double-quoted value")
				}
				return b.String(), nil
			default:
				b.WriteByte(c)
			}
		}
		return "", errors.New("unterminated double-quoted value")
	}
	if i := strings.Index(v, " #"); i >= 0 {
		v = v[:i]
	}
	return strings.TrimSpace(v), nil
}
