package contract

import (
	"flag"
	"fmt"
	"os"
	"testing"
)

// TestMain runs the suite, then the coverage gate: every operation of openapi.yaml must have been
// exercised and must have returned each of its documented statuses. A run narrowed with -run or
// -skip exercises only part of the API on purpose, so the gate is skipped then.
func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := makeTemplate()
	if err != nil {
		fmt.Fprintln(os.Stderr, "contract: migrating the template database:", err)
		os.Exit(1)
	}
	templateDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	if narrowed() {
		fmt.Fprintln(os.Stderr, "contract: coverage gate skipped (-run or -skip narrows the suite)")
		os.Exit(code)
	}
	s, err := loadSpec()
	if err != nil {
		fmt.Fprintln(os.Stderr, "contract:", err)
		os.Exit(1)
	}
	if missing := cov.missing(s.doc); len(missing) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: contract coverage gate: %d gaps between openapi.yaml and what the suite observed:\n", len(missing))
		for _, m := range missing {
			fmt.Fprintln(os.Stderr, "\t"+m)
		}
		code = 1
	}
	os.Exit(code)
}

func narrowed() bool {
	for _, name := range []string{"test.run", "test.skip"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" {
			return true
		}
	}
	return false
}
