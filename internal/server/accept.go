package server

import (
	"strconv"
	"strings"
)

// maxAcceptBytes bounds how much of an Accept header prefersHTML reads; a
// longer header is judged on its first maxAcceptBytes (browsers send about
// 150 bytes).
const maxAcceptBytes = 1024

// prefersHTML reports whether a request with this Accept header prefers an
// HTML page to JSON: text/html gets a higher quality than application/json.
// Browsers' navigations and form posts send
// "text/html,application/xhtml+xml,…,*/*;q=0.8" (HTML 1, JSON 0.8: a page);
// curl and fetch send "*/*" and API clients application/json (a tie or JSON
// ahead: JSON). The most specific range wins for each type (RFC 9110
// 12.5.1): "text/html;q=0, */*" does not want HTML.
func prefersHTML(accept string) bool {
	if len(accept) > maxAcceptBytes {
		accept = accept[:maxAcceptBytes]
	}
	html, json := acceptQuality(accept, "text", "html"), acceptQuality(accept, "application", "json")
	return html > 0 && html > json
}

// acceptQuality is the quality (0 to 1000, in thousandths) that accept gives
// to typ/sub, or 0 when no range matches it. A malformed q counts as 0.
func acceptQuality(accept, typ, sub string) int {
	best, spec := 0, -1 // spec: 0 */*, 1 type/*, 2 type/sub
	for part := range strings.SplitSeq(accept, ",") {
		mr, params, _ := strings.Cut(part, ";")
		t, s, ok := strings.Cut(strings.TrimSpace(mr), "/")
		if !ok {
			continue
		}
		var sp int
		switch {
		case t == "*" && s == "*":
			sp = 0
		case strings.EqualFold(t, typ) && s == "*":
			sp = 1
		case strings.EqualFold(t, typ) && strings.EqualFold(s, sub):
			sp = 2
		default:
			continue
		}
		if sp < spec {
			continue
		}
		q := qualityOf(params)
		if sp > spec || q > best {
			best, spec = q, sp
		}
	}
	return best
}

// qualityOf reads q= from a media range's parameters: 1000 when absent.
func qualityOf(params string) int {
	for p := range strings.SplitSeq(params, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || f < 0 || f > 1 || f != f {
			return 0
		}
		return int(f*1000 + 0.5)
	}
	return 1000
}
