package conformance

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// SECURITY.md promises a test for every threat. This keeps the promise
// checked: every test, fuzz target, conformance case, subtest name and file
// it names must exist.
func TestSecurityMDNamesRealTests(t *testing.T) {
	doc, err := os.ReadFile("../SECURITY.md")
	if err != nil {
		t.Fatal(err)
	}
	var src strings.Builder
	err = filepath.WalkDir("..", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != ".." {
			return filepath.SkipDir
		}
		if strings.HasSuffix(path, "_test.go") {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			src.Write(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	all := src.String()
	var cases []byte
	for _, f := range []string{"conformance_test.go", "backchannel_test.go"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, b...)
	}
	s := string(doc)
	checked := 0
	for _, m := range regexp.MustCompile("`(?:\\w+\\.)?((?:Test|Fuzz)\\w+)`").FindAllStringSubmatch(s, -1) {
		checked++
		if !regexp.MustCompile(`(?m)^func ` + m[1] + `\(`).MatchString(all) {
			t.Errorf("SECURITY.md names %s, which does not exist", m[1])
		}
	}
	for _, m := range regexp.MustCompile("`((?:rp|oidcc|ssokit)-[\\w.+-]+)`").FindAllStringSubmatch(s, -1) {
		checked++
		if !strings.Contains(string(cases), `"`+m[1]+`"`) {
			t.Errorf("SECURITY.md names the conformance case %s, which does not exist", m[1])
		}
	}
	for _, m := range regexp.MustCompile(`"([^"…|\n]+)"`).FindAllStringSubmatch(s, -1) {
		checked++
		if !strings.Contains(all, `"`+m[1]+`"`) {
			t.Errorf("SECURITY.md names the case %q, which no test has", m[1])
		}
	}
	for _, m := range regexp.MustCompile(`\]\(([^)]+)\)`).FindAllStringSubmatch(s, -1) {
		checked++
		if _, err := os.Stat(filepath.Join("..", m[1])); err != nil {
			t.Errorf("SECURITY.md links %s: %v", m[1], err)
		}
	}
	if checked < 100 {
		t.Fatalf("only %d references checked; the patterns no longer match SECURITY.md", checked)
	}
}
