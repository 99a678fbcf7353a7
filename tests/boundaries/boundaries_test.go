// Package boundaries checks the rule that keeps Airlock's three programs
// apart: a contract between programs lives with the program that serves it
// (the control interface and the document-path layout under portal/, the
// chooser protocol under chooser-ui/, the gettext loader under po/), and
// clients import a contract, never another program's insides.
package boundaries

import (
	"bytes"
	"fmt"
	"os/exec"
	"sort"
	"strings"
	"testing"
)

const module = "airlock"

// contracts: what each part of the repository may use of the others, as
// package path prefixes (a contract's subpackages, such as its test
// helpers, are part of it). Its own packages are always allowed; tests/
// drives every program and is not checked.
var contracts = map[string][]string{
	"launcher": {
		"airlock/portal/control", // the broker's control interface and keep channel
		"airlock/portal/docpath", // where granted documents appear inside a sandbox
		"airlock/portal/grant",   // what a grant is, as the broker hands it out
		// The grant manager's lines (ManagerState, ManagerAction): airlock
		// manager drives airlock-chooser --manager.
		"airlock/chooser-ui/protocol",
		"airlock/po/i18n",
	},
	"portal": {
		"airlock/chooser-ui/protocol", // how the broker drives the chooser
		"airlock/po/i18n",
	},
	"chooser-ui": {
		"airlock/po/i18n",
	},
	"po": nil,
}

// testHelpers may be used by any part's tests, never by the programs: the
// harness that starts dbus-daemon, Xvfb and the test user, and asuser that
// re-executes a test binary as that user.
var testHelpers = []string{"airlock/tests/harness", "airlock/tests/asuser", "airlock/tests/testuser"}

// part returns the top-level folder of a package of the module ("" for
// another module's package).
func part(pkg string) string {
	rest, ok := strings.CutPrefix(pkg, module+"/")
	if !ok {
		return ""
	}
	p, _, _ := strings.Cut(rest, "/")
	return p
}

// allowed reports whether a package of part from may depend on pkg (test
// code: through a test's imports).
func allowed(from, pkg string, test bool) bool {
	to := part(pkg)
	if to == "" || to == from {
		return true
	}
	for _, c := range contracts[from] {
		if under(pkg, c) {
			return true
		}
	}
	for _, c := range testHelpers {
		if test && under(pkg, c) {
			return true
		}
	}
	return false
}

func under(pkg, prefix string) bool {
	return pkg == prefix || strings.HasPrefix(pkg, prefix+"/")
}

// An edge is one import; test says a test file made it.
type edge struct {
	to   string
	test bool
}

// plain strips go list's test decorations: "p [p.test]", "p_test", "p.test".
func plain(pkg string) string {
	pkg, _, _ = strings.Cut(pkg, " ")
	pkg = strings.TrimSuffix(pkg, ".test")
	return strings.TrimSuffix(pkg, "_test")
}

// imports returns the import graph of the module's packages, test imports
// included: package -> packages it imports directly.
func imports(t *testing.T, patterns ...string) map[string][]edge {
	t.Helper()
	args := append([]string{"list", "-deps", "-test", "-f", "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}"}, patterns...)
	cmd := exec.Command("go", args...)
	cmd.Dir = "../.."
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	graph := map[string][]edge{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		// A test variant's name has a space: "p [p.test]"; so do its
		// imports, which go list prints the same way.
		fields := splitList(line)
		if len(fields) == 0 || part(plain(fields[0])) == "" {
			continue
		}
		from := plain(fields[0])
		test := from != fields[0] // a test variant: its imports include its tests'
		graph[from] = graph[from] // listed even when it imports nothing of the module
		for _, imp := range fields[1:] {
			if to := plain(imp); part(to) != "" && to != from {
				graph[from] = append(graph[from], edge{to, test})
			}
		}
	}
	return graph
}

// splitList splits go list's line on spaces, keeping "p [q.test]" whole.
func splitList(line string) []string {
	var out []string
	for _, f := range strings.Fields(line) {
		if strings.HasPrefix(f, "[") && len(out) > 0 {
			out[len(out)-1] += " " + f
			continue
		}
		out = append(out, f)
	}
	return out
}

// violations walks each part's packages and everything they depend on, and
// returns each dependency the part may not have, with the chain of imports
// that leads to it.
// A test helper's own imports are not followed: they end up in no program.
func violations(graph map[string][]edge) []string {
	var out []string
	for from := range contracts {
		parent := map[string]string{}
		var queue []string
		for pkg := range graph {
			if part(pkg) == from {
				parent[pkg] = ""
				queue = append(queue, pkg)
			}
		}
		sort.Strings(queue)
		for len(queue) > 0 {
			pkg := queue[0]
			queue = queue[1:]
			deps := append([]edge(nil), graph[pkg]...)
			sort.Slice(deps, func(i, j int) bool { return deps[i].to < deps[j].to })
			for _, d := range deps {
				if _, seen := parent[d.to]; seen {
					continue
				}
				if !allowed(from, d.to, d.test) {
					parent[d.to] = pkg
					chain := []string{d.to}
					for p := pkg; p != ""; p = parent[p] {
						chain = append([]string{p}, chain...)
					}
					out = append(out, fmt.Sprintf("%s depends on %s: %s", from, d.to, strings.Join(chain, " -> ")))
					continue
				}
				if part(d.to) != from && isTestHelper(d.to) {
					// Not marked seen: a program's own import of it,
					// later, is still checked.
					continue
				}
				parent[d.to] = pkg
				queue = append(queue, d.to)
			}
		}
	}
	sort.Strings(out)
	return out
}

func isTestHelper(pkg string) bool {
	for _, c := range testHelpers {
		if under(pkg, c) {
			return true
		}
	}
	return false
}

// TestProgramsUseOnlyContracts: no program (nor po/) depends, directly or
// through a contract, on another program's insides; tests included.
func TestProgramsUseOnlyContracts(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command on PATH")
	}
	graph := imports(t, "./launcher/...", "./portal/...", "./chooser-ui/...", "./po/...")
	for _, p := range []string{"airlock/launcher/cli", "airlock/portal/broker", "airlock/chooser-ui/filechooser", "airlock/po/i18n"} {
		if _, ok := graph[p]; !ok {
			t.Fatalf("go list did not list %s: the check would see nothing", p)
		}
	}
	for _, v := range violations(graph) {
		t.Error(v)
	}
}

// TestViolations: the check finds a forbidden dependency, direct or
// through an allowed package, and accepts the contracts.
func TestViolations(t *testing.T) {
	for _, tc := range []struct {
		name  string
		graph map[string][]string // test imports are marked "test:"
		want  []string
	}{
		{"contracts only", map[string][]string{
			"airlock/launcher/cli":           {"airlock/portal/control", "airlock/po/i18n", "airlock/launcher/profile"},
			"airlock/launcher/brokerclient":  {"airlock/portal/control/ifacetest", "airlock/portal/docpath", "airlock/portal/grant"},
			"airlock/portal/filechooser":     {"airlock/chooser-ui/protocol", "airlock/po/i18n"},
			"airlock/chooser-ui/filechooser": {"airlock/chooser-ui/protocol", "airlock/po/i18n"},
			"airlock/po/extract":             nil,
			"airlock/tests/launcher":         {"airlock/portal/broker", "airlock/launcher/sandbox"},
			"airlock/portal/control/fdtest":  nil,
			"airlock/launcher/profile":       {"github.com/BurntSushi/toml"},
		}, nil},
		{"launcher uses the broker's insides", map[string][]string{
			"airlock/launcher/cli": {"airlock/portal/broker"},
		}, []string{"launcher depends on airlock/portal/broker: airlock/launcher/cli -> airlock/portal/broker"}},
		{"portal uses the launcher", map[string][]string{
			"airlock/portal/filechooser": {"airlock/launcher/i18n"},
		}, []string{"portal depends on airlock/launcher/i18n"}},
		{"portal uses the chooser's insides", map[string][]string{
			"airlock/portal/filechooser": {"airlock/chooser-ui/gtk"},
		}, []string{"portal depends on airlock/chooser-ui/gtk"}},
		{"chooser uses the portal's contract", map[string][]string{
			"airlock/chooser-ui/main": {"airlock/portal/control"},
		}, []string{"chooser-ui depends on airlock/portal/control"}},
		{"a contract leaks its program's insides", map[string][]string{
			"airlock/launcher/cli":   {"airlock/portal/control"},
			"airlock/portal/control": {"airlock/portal/busserver"},
		}, []string{"launcher depends on airlock/portal/busserver: airlock/launcher/cli -> airlock/portal/control -> airlock/portal/busserver"}},
		{"a prefix is not a contract", map[string][]string{
			"airlock/launcher/cli": {"airlock/portal/controlx"},
		}, []string{"launcher depends on airlock/portal/controlx"}},
		{"the gettext loader uses a program", map[string][]string{
			"airlock/po/i18n": {"airlock/launcher/profile"},
		}, []string{"po depends on airlock/launcher/profile"}},
		{"a program uses the test harness", map[string][]string{
			"airlock/portal/broker": {"airlock/tests/harness"},
		}, []string{"portal depends on airlock/tests/harness"}},
		{"a program's tests use the test harness", map[string][]string{
			"airlock/portal/broker": {"test:airlock/tests/harness"},
			"airlock/chooser-ui":    {"test:airlock/tests/harness", "test:airlock/chooser-ui/protocol"},
			"airlock/tests/harness": {"airlock/portal/broker"},
		}, nil},
		{"its tests and its code use the test harness", map[string][]string{
			"airlock/portal/busserver": {"test:airlock/tests/harness", "airlock/tests/harness"},
		}, []string{"portal depends on airlock/tests/harness"}},
		{"a program's tests use another program", map[string][]string{
			"airlock/chooser-ui": {"test:airlock/portal/filechooser"},
		}, []string{"chooser-ui depends on airlock/portal/filechooser"}},
		{"a program's tests use another test package", map[string][]string{
			"airlock/portal/broker": {"test:airlock/tests/launcher"},
		}, []string{"portal depends on airlock/tests/launcher"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			graph := map[string][]edge{}
			for from, tos := range tc.graph {
				graph[from] = nil
				for _, to := range tos {
					to, test := strings.CutPrefix(to, "test:")
					graph[from] = append(graph[from], edge{to, test})
				}
			}
			got := violations(graph)
			if len(got) != len(tc.want) {
				t.Fatalf("violations %q, want %d like %q", got, len(tc.want), tc.want)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tc.want[i]) {
					t.Errorf("violation %q, want one starting %q", got[i], tc.want[i])
				}
			}
		})
	}
}

func TestPlain(t *testing.T) {
	for in, want := range map[string]string{
		"airlock/launcher/cli":                                  "airlock/launcher/cli",
		"airlock/launcher/cli [airlock/launcher/cli.test]":      "airlock/launcher/cli",
		"airlock/launcher/cli.test":                             "airlock/launcher/cli",
		"airlock/launcher/cli_test [airlock/launcher/cli.test]": "airlock/launcher/cli",
	} {
		if got := plain(in); got != want {
			t.Errorf("plain(%q) = %q, want %q", in, got, want)
		}
	}
}
