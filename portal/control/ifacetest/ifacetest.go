// Package ifacetest holds an exported D-Bus object to the interface XML it
// publishes (control.PortalXML, control.LauncherXML), for the tests of the
// packages that serve them: the broker and the launcher.
package ifacetest

import (
	"encoding/xml"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode"

	"github.com/godbus/dbus/v5/introspect"
)

// Compare returns how the interface iface described in ifaceXML and the
// methods obj exports on the bus differ (nil: they agree). Methods and
// argument types and directions come from godbus (introspect.Methods, which
// skips dbus.Sender and dbus.Message the way Export does); argument names,
// which reflection cannot see, from the Go declarations of obj's type
// (recv, declared in the .go files of dir): each input's name must be
// the XML's in snake_case, and each output's too where the Go results are
// named.
func Compare(ifaceXML, iface string, obj any, dir, recv string) []string {
	var node introspect.Node
	if err := xml.Unmarshal([]byte(ifaceXML), &node); err != nil {
		return []string{fmt.Sprintf("cannot read the XML: %v", err)}
	}
	var want *introspect.Interface
	for i := range node.Interfaces {
		if node.Interfaces[i].Name == iface {
			want = &node.Interfaces[i]
		} else {
			return []string{fmt.Sprintf("the XML describes %s besides %s", node.Interfaces[i].Name, iface)}
		}
	}
	if want == nil {
		return []string{fmt.Sprintf("the XML does not describe %s", iface)}
	}
	names, err := goArgNames(dir, recv)
	if err != nil {
		return []string{err.Error()}
	}
	var diffs []string
	got := map[string]introspect.Method{}
	for _, m := range introspect.Methods(obj) {
		got[m.Name] = m
	}
	seen := map[string]bool{}
	for _, wm := range want.Methods {
		seen[wm.Name] = true
		gm, ok := got[wm.Name]
		if !ok {
			diffs = append(diffs, fmt.Sprintf("%s: in the XML, not exported by %s", wm.Name, recv))
			continue
		}
		if sig(wm.Args) != sig(gm.Args) {
			diffs = append(diffs, fmt.Sprintf("%s: the XML says %s, the Go method %s", wm.Name, sig(wm.Args), sig(gm.Args)))
			continue
		}
		gn := names[wm.Name]
		for _, dirn := range []string{"in", "out"} {
			var xmlNames []string
			for _, a := range wm.Args {
				if a.Direction == dirn {
					xmlNames = append(xmlNames, a.Name)
				}
			}
			goNames := gn[dirn]
			if dirn == "out" && len(goNames) == 0 {
				continue // unnamed results
			}
			for i := range xmlNames {
				if i >= len(goNames) || snake(goNames[i]) != xmlNames[i] {
					diffs = append(diffs, fmt.Sprintf("%s: %s arguments named %v in the XML, %v in Go", wm.Name, dirn, xmlNames, goNames))
					break
				}
			}
		}
	}
	for name := range got {
		if !seen[name] {
			diffs = append(diffs, fmt.Sprintf("%s: exported by %s, not in the XML", name, recv))
		}
	}
	sort.Strings(diffs)
	return diffs
}

// sig is a method's arguments as "in s, in h, out s".
func sig(args []introspect.Arg) string {
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = a.Direction + " " + a.Type
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// snake turns a Go name into the XML's style: docView -> doc_view, docID ->
// doc_id (an initialism is one word).
func snake(s string) string {
	rs := []rune(s)
	var b strings.Builder
	for i, r := range rs {
		if unicode.IsUpper(r) && i > 0 {
			prevLower := unicode.IsLower(rs[i-1]) || unicode.IsDigit(rs[i-1])
			endOfInitialism := unicode.IsUpper(rs[i-1]) && i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if prevLower || endOfInitialism {
				b.WriteByte('_')
			}
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// goArgNames returns, for each method of recv declared in dir, the names of
// its parameters ("in", dbus.Sender and dbus.Message left out) and of its
// results ("out", the trailing *dbus.Error left out; none when unnamed).
func goArgNames(dir, recv string) (map[string]map[string][]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	out := map[string]map[string][]string{}
	fset := token.NewFileSet()
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		file, err := parser.ParseFile(fset, f, src, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		for _, d := range file.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Recv == nil || len(fd.Recv.List) != 1 || typeString(fd.Recv.List[0].Type) != recv {
				continue
			}
			m := map[string][]string{}
			for _, p := range fd.Type.Params.List {
				if t := typeString(p.Type); t == "dbus.Sender" || t == "dbus.Message" {
					continue
				}
				for _, n := range p.Names {
					m["in"] = append(m["in"], n.Name)
				}
			}
			if fd.Type.Results != nil {
				for _, r := range fd.Type.Results.List {
					if typeString(r.Type) == "*dbus.Error" {
						continue
					}
					for _, n := range r.Names {
						m["out"] = append(m["out"], n.Name)
					}
				}
			}
			out[fd.Name.Name] = m
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no method of %s declared in %s", recv, dir)
	}
	return out, nil
}

func typeString(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.Ident:
		return x.Name
	case *ast.StarExpr:
		return "*" + typeString(x.X)
	case *ast.SelectorExpr:
		return typeString(x.X) + "." + x.Sel.Name
	}
	return ""
}
