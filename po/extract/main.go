// Command extract writes po/airlock.pot from the Go sources: every
// i18n.T("...") call whose first argument is a constant string (concatenations
// included), which xgettext's C parser cannot see whole. Run from the
// repository root: go run ./po/extract > po/airlock.pot
package main

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

func main() {
	fset := token.NewFileSet()
	type entry struct {
		msg  string
		refs []string
	}
	found := map[string]*entry{}
	filepath.Walk(".", func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return nil
		}
		if info.IsDir() && (strings.HasPrefix(info.Name(), ".") && path != "." || info.Name() == "build" || info.Name() == "testdata") {
			return filepath.SkipDir
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return nil
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			arg := -1
			if sel, ok := call.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "T" {
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == "i18n" {
					arg = 0 // i18n.T("...")
				}
			}
			// The profile package's bad(key, "format", ...) translates
			// its format.
			if id, ok := call.Fun.(*ast.Ident); ok && id.Name == "bad" && len(call.Args) >= 2 {
				arg = 1
			}
			if arg < 0 {
				return true
			}
			tv, err := types.Eval(fset, nil, call.Args[arg].Pos(), exprString(call.Args[arg]))
			if err != nil || tv.Value == nil || tv.Value.Kind() != constant.String {
				return true
			}
			msg := constant.StringVal(tv.Value)
			e := found[msg]
			if e == nil {
				e = &entry{msg: msg}
				found[msg] = e
			}
			p := fset.Position(call.Pos())
			e.refs = append(e.refs, fmt.Sprintf("%s:%d", p.Filename, p.Line))
			return true
		})
		return nil
	})
	msgs := make([]*entry, 0, len(found))
	for _, e := range found {
		msgs = append(msgs, e)
	}
	sort.Slice(msgs, func(i, j int) bool { return msgs[i].refs[0] < msgs[j].refs[0] })
	fmt.Print(`# Airlock's user-visible strings.
# This file is distributed under the same license as the airlock package.
#, fuzzy
msgid ""
msgstr ""
"Project-Id-Version: airlock\n"
"Content-Type: text/plain; charset=UTF-8\n"
"Content-Transfer-Encoding: 8bit\n"

`)
	for _, e := range msgs {
		fmt.Printf("#: %s\n", strings.Join(e.refs, " "))
		if strings.Contains(e.msg, "%") {
			fmt.Println("#, c-format")
		}
		fmt.Printf("msgid %s\nmsgstr \"\"\n\n", poString(e.msg))
	}
}

func exprString(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.BasicLit:
		return x.Value
	case *ast.BinaryExpr:
		return exprString(x.X) + " + " + exprString(x.Y)
	case *ast.ParenExpr:
		return "(" + exprString(x.X) + ")"
	}
	return "nil"
}

// poString quotes s for a .po file, one line per \n.
func poString(s string) string {
	if !strings.Contains(s, "\n") || strings.Count(s, "\n") == 1 && strings.HasSuffix(s, "\n") {
		return quote(s)
	}
	var b strings.Builder
	b.WriteString("\"\"")
	for _, part := range strings.SplitAfter(s, "\n") {
		if part != "" {
			b.WriteString("\n" + quote(part))
		}
	}
	return b.String()
}

func quote(s string) string {
	q := strconv.Quote(s)
	return q
}
