package tether_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// securityDoc is the document TestSecurityDoc keeps honest.
const securityDoc = "docs/security.md"

// asvsRows are the OWASP ASVS 5.0 requirements docs/security.md must map, one
// table row each: V7 from 7.1.1 to 7.6.2, V3.3.1 to V3.3.5, and 3.4.3
// (issue 11, deliverable 5).
var asvsRows = []string{
	"7.1.1", "7.1.2", "7.1.3",
	"7.2.1", "7.2.2", "7.2.3", "7.2.4",
	"7.3.1", "7.3.2",
	"7.4.1", "7.4.2", "7.4.3", "7.4.4", "7.4.5",
	"7.5.1", "7.5.2", "7.5.3",
	"7.6.1", "7.6.2",
	"3.3.1", "3.3.2", "3.3.3", "3.3.4", "3.3.5",
	"3.4.3",
}

// citedTest is one cited test, with an optional note in parentheses.
const citedTest = "`(?:Test|Fuzz|Example)\\w*`(?:\\s+\\([^()]*\\))?"

var (
	// codeSpan is a Markdown code span on one line.
	codeSpan = regexp.MustCompile("`([^`\n]+)`")
	// testName is a cited test: TestXxx, FuzzXxx or ExampleXxx.
	testName = regexp.MustCompile("`((?:Test|Fuzz|Example)\\w*)`")
	// citation is one or more cited tests followed by the package (the
	// module directory) that holds them: "`TestA`, `TestB` (a note) and
	// `TestC` in `cmd/tether`".
	citation = regexp.MustCompile(citedTest + "(?:(?:,\\s*|\\s+and\\s+)" + citedTest + ")*\\s+in\\s+`([\\w./-]+)`")
	// testPrefix tells a test function by its name.
	testPrefix = regexp.MustCompile(`^(?:Test|Fuzz|Example)`)
	// envName is an environment variable's name: upper case with underscores.
	envName = regexp.MustCompile(`\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b`)
	// filePath is a path to a Go file or a directory of the module.
	filePath = regexp.MustCompile(`^[\w.-]+(?:/[\w.-]+)*(?:\.go|/)$`)
)

// TestSecurityDoc keeps docs/security.md from rotting: every test it cites
// exists in the package it names, every environment variable it names is in
// the README, every Go file or directory it names exists, the ASVS table has
// exactly one row for each requirement with a status, every row that is not
// "not applicable" cites a test, and the README links to it.
func TestSecurityDoc(t *testing.T) {
	doc := readFile(t, securityDoc)
	readme := readFile(t, "README.md")
	funcs := testFuncs(t)

	t.Run("cited tests exist", func(t *testing.T) {
		covered := make([]bool, len(doc))
		for _, m := range citation.FindAllStringSubmatchIndex(doc, -1) {
			pkg := doc[m[2]:m[3]]
			dir := pkg
			if pkg == "tether" {
				dir = "."
			}
			for i := m[0]; i < m[1]; i++ {
				covered[i] = true
			}
			for _, n := range testName.FindAllStringSubmatch(doc[m[0]:m[1]], -1) {
				if _, ok := funcs[dir]; !ok {
					t.Errorf("%s cites %s in %q: got no package directory %q, want a directory of the module (tether for its root)", securityDoc, n[1], pkg, dir)
					break
				}
				if !funcs[dir][n[1]] {
					t.Errorf("%s cites %s in %s: got no such function there, want a top-level %s in a _test.go file of %s", securityDoc, n[1], pkg, n[1], dir)
				}
			}
		}
		for _, m := range testName.FindAllStringSubmatchIndex(doc, -1) {
			if !covered[m[0]] {
				t.Errorf("%s line %d: %s is cited without its package: got no \" in `package`\" after it", securityDoc, lineOf(doc, m[0]), doc[m[2]:m[3]])
			}
		}
	})

	t.Run("variables are in the README", func(t *testing.T) {
		seen := map[string]bool{}
		for _, span := range codeSpans(doc) {
			for _, name := range envName.FindAllString(span, -1) {
				if seen[name] {
					continue
				}
				seen[name] = true
				if !strings.Contains(readme, "`"+name+"`") {
					t.Errorf("%s names %s: got no `%s` in README.md, want every variable it names documented there", securityDoc, name, name)
				}
			}
		}
		if len(seen) == 0 {
			t.Errorf("%s: got no environment variable, want the ones its procedures use", securityDoc)
		}
	})

	t.Run("named files exist", func(t *testing.T) {
		seen := map[string]bool{}
		for _, span := range codeSpans(doc) {
			if !filePath.MatchString(span) || seen[span] {
				continue
			}
			seen[span] = true
			if _, err := os.Stat(filepath.FromSlash(span)); err != nil {
				t.Errorf("%s names %s: got %v, want the file or directory in the module", securityDoc, span, err)
			}
		}
	})

	t.Run("ASVS table", func(t *testing.T) {
		rows := map[string][]string{}
		for _, line := range strings.Split(doc, "\n") {
			if !strings.HasPrefix(line, "| ") {
				continue
			}
			// No cell of the table holds a "|" of its own.
			cells := strings.Split(strings.TrimSuffix(strings.TrimSpace(line), "|"), "|")[1:]
			for i := range cells {
				cells[i] = strings.TrimSpace(cells[i])
			}
			id := cells[0]
			if !slices.Contains(asvsRows, id) {
				continue
			}
			if _, dup := rows[id]; dup {
				t.Errorf("ASVS %s: got two rows, want one", id)
			}
			rows[id] = cells
		}
		for _, id := range asvsRows {
			cells, ok := rows[id]
			if !ok {
				t.Errorf("ASVS %s: got no row in %s, want one", id, securityDoc)
				continue
			}
			if len(cells) != 6 {
				t.Errorf("ASVS %s: got %d cells, want 6 (#, requirement, level, status, where, proved by)", id, len(cells))
				continue
			}
			status := cells[3]
			switch {
			case strings.HasPrefix(status, "not applicable"):
			case strings.HasPrefix(status, "met"), strings.HasPrefix(status, "partly"):
				if !testName.MatchString(cells[5]) {
					t.Errorf("ASVS %s: status %q cites no test, want the test that proves it", id, firstWords(status))
				}
			default:
				t.Errorf("ASVS %s: got status %q, want it to start with met, partly or not applicable", id, firstWords(status))
			}
		}
	})

	t.Run("README links it", func(t *testing.T) {
		if !strings.Contains(readme, "("+securityDoc+")") {
			t.Errorf("README.md: got no link to %s, want one", securityDoc)
		}
	})
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// codeSpans returns the contents of the one-line code spans of a Markdown
// text.
func codeSpans(s string) []string {
	var out []string
	for _, m := range codeSpan.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

// testFuncs returns, per directory of the module (the nested examples module
// included), the top-level Test, Fuzz and Example functions of its _test.go
// files. Every directory holding Go files is present, even without tests.
func testFuncs(t *testing.T) map[string]map[string]bool {
	t.Helper()
	out := map[string]map[string]bool{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		dir := filepath.ToSlash(filepath.Dir(path))
		if out[dir] == nil {
			out[dir] = map[string]bool{}
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if ok && fn.Recv == nil && testPrefix.MatchString(fn.Name.Name) {
				out[dir][fn.Name.Name] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func lineOf(s string, off int) int { return strings.Count(s[:off], "\n") + 1 }

func firstWords(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
