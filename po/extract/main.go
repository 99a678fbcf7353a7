// Command extract is the one list of Airlock's translatable strings: it
// reads the Go sources and writes po/airlock.pot. It finds every call of a
// keyword (i18n.T from airlock/po/i18n, and the wrappers listed in keywords)
// whose message is a constant string, concatenations included, which
// xgettext's C parser cannot see whole. A keyword called with a message it
// cannot read is an error: that string would never be translated.
//
// Run from the repository root:
//
//	go run ./po/extract -o po/airlock.pot
//
// (meson compile airlock-pot does the same.)
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

// i18nPath is the import path of the gettext loader.
const i18nPath = "airlock/po/i18n"

// A keyword is a function whose argument arg is a message to translate.
type keyword struct {
	// importPath: a function of another package, called as pkg.Name;
	// dir: a function of the package in that folder, called as Name.
	importPath, dir string
	name            string
	arg             int
}

var keywords = []keyword{
	{importPath: i18nPath, name: "T", arg: 0},
	// The profile package's bad(key, format, args...) translates format.
	{dir: "launcher/profile", name: "bad", arg: 1},
}

// Ref is where a message is used.
type Ref struct {
	File string // slash-separated, relative to the root
	Line int
}

func (r Ref) String() string { return fmt.Sprintf("%s:%d", r.File, r.Line) }

// Message is one translatable string and where it is used.
type Message struct {
	ID   string
	Refs []Ref
}

// Extract returns the messages of the Go sources under root (tests, testdata
// and hidden folders left out), in the order of their first use: files in
// lexical order (filepath.WalkDir), calls in source order. The same sources
// always give the same template.
func Extract(root string) ([]Message, error) {
	fset := token.NewFileSet()
	found := map[string]*Message{}
	var order []string // first use, in walk (lexical) and source order
	var errs []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "build") {
				return filepath.SkipDir
			}
			return nil
		}
		desktop := strings.HasSuffix(p, ".desktop.in")
		if !desktop && (!strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go")) {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		var uses []use
		if desktop {
			if uses, err = extractDesktop(p, rel); err != nil {
				return err
			}
		} else {
			f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			uses = extractFile(fset, f, rel)
		}
		for _, e := range uses {
			if e.err != "" {
				errs = append(errs, e.ref.String()+": "+e.err)
				continue
			}
			m := found[e.msg]
			if m == nil {
				m = &Message{ID: e.msg}
				found[e.msg] = m
				order = append(order, e.msg)
			}
			m.Refs = append(m.Refs, e.ref)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("messages that cannot be extracted:\n%s", strings.Join(errs, "\n"))
	}
	msgs := make([]Message, 0, len(order))
	for _, id := range order {
		msgs = append(msgs, *found[id])
	}
	return msgs, nil
}

// desktopKeys are the keys of a desktop entry template (data/applications/
// *.desktop.in) that msgfmt --desktop translates, as meson's
// i18n.merge_file does when it installs the entry.
var desktopKeys = []string{"Name", "GenericName", "Comment"}

// extractDesktop returns the translatable values of a desktop entry template.
func extractDesktop(p, rel string) ([]use, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	var uses []use
	for i, l := range strings.Split(string(b), "\n") {
		for _, k := range desktopKeys {
			if v, ok := strings.CutPrefix(l, k+"="); ok && v != "" {
				uses = append(uses, use{ref: Ref{File: rel, Line: i + 1}, msg: v})
			}
		}
	}
	return uses, nil
}

type use struct {
	ref Ref
	msg string
	err string // the message is not a constant
}

// extractFile returns the keyword calls of one file, in source order.
func extractFile(fset *token.FileSet, f *ast.File, rel string) []use {
	dir := path.Dir(rel)
	// The names under which this file imports each keyword's package.
	local := map[string]string{}
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		name := path.Base(p)
		if imp.Name != nil {
			name = imp.Name.Name
		}
		local[p] = name
	}
	match := func(call *ast.CallExpr) (keyword, bool) {
		for _, k := range keywords {
			switch fun := call.Fun.(type) {
			case *ast.SelectorExpr:
				if id, ok := fun.X.(*ast.Ident); ok && k.importPath != "" && fun.Sel.Name == k.name && local[k.importPath] == id.Name {
					return k, true
				}
			case *ast.Ident:
				if k.dir == dir && fun.Name == k.name || k.importPath != "" && local[k.importPath] == "." && fun.Name == k.name {
					return k, true
				}
			}
		}
		return keyword{}, false
	}
	var out []use
	for _, decl := range f.Decls {
		// Inside a keyword of this package, the message is the wrapper's
		// own parameter: its callers are extracted instead.
		wrapper := false
		if fd, ok := decl.(*ast.FuncDecl); ok && fd.Recv == nil {
			for _, k := range keywords {
				wrapper = wrapper || k.dir == dir && fd.Name.Name == k.name
			}
		}
		ast.Inspect(decl, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			k, ok := match(call)
			if !ok {
				return true
			}
			p := fset.Position(call.Pos())
			u := use{ref: Ref{File: rel, Line: p.Line}}
			switch {
			case len(call.Args) <= k.arg:
				u.err = fmt.Sprintf("%s has no argument %d", k.name, k.arg+1)
			default:
				msg, ok := constString(call.Args[k.arg])
				switch {
				case ok:
					u.msg = msg
				case wrapper:
					return true
				default:
					u.err = fmt.Sprintf("the message of %s is not a constant string", k.name)
				}
			}
			out = append(out, u)
			return true
		})
	}
	return out
}

// constString evaluates a string literal or a concatenation of them.
func constString(e ast.Expr) (string, bool) {
	switch x := e.(type) {
	case *ast.BasicLit:
		if x.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(x.Value)
		return s, err == nil
	case *ast.ParenExpr:
		return constString(x.X)
	case *ast.BinaryExpr:
		if x.Op != token.ADD {
			return "", false
		}
		a, ok := constString(x.X)
		if !ok {
			return "", false
		}
		b, ok := constString(x.Y)
		return a + b, ok
	}
	return "", false
}

const header = `# Airlock's user-visible strings.
# This file is distributed under the same license as the airlock package.
#, fuzzy
msgid ""
msgstr ""
"Project-Id-Version: airlock\n"
"Content-Type: text/plain; charset=UTF-8\n"
"Content-Transfer-Encoding: 8bit\n"

`

// WritePOT writes msgs as a gettext template.
func WritePOT(w io.Writer, msgs []Message) error {
	var b bytes.Buffer
	b.WriteString(header)
	for _, m := range msgs {
		refs := make([]string, len(m.Refs))
		for i, r := range m.Refs {
			refs[i] = r.String()
		}
		fmt.Fprintf(&b, "#: %s\n", strings.Join(refs, " "))
		if strings.Contains(m.ID, "%") {
			b.WriteString("#, c-format\n")
		}
		fmt.Fprintf(&b, "msgid %s\nmsgstr \"\"\n\n", poString(m.ID))
	}
	_, err := w.Write(b.Bytes())
	return err
}

// poString quotes s for a .po file, one line per \n.
func poString(s string) string {
	if !strings.Contains(strings.TrimSuffix(s, "\n"), "\n") {
		return strconv.Quote(s)
	}
	var b strings.Builder
	b.WriteString(`""`)
	for _, part := range strings.SplitAfter(s, "\n") {
		if part != "" {
			b.WriteString("\n" + strconv.Quote(part))
		}
	}
	return b.String()
}

func main() {
	root := flag.String("root", ".", "the repository root")
	out := flag.String("o", "-", "where to write the template (- for standard output)")
	flag.Parse()
	if err := run(*root, *out); err != nil {
		fmt.Fprintf(os.Stderr, "extract: %v\n", err)
		os.Exit(1)
	}
}

func run(root, out string) error {
	msgs, err := Extract(root)
	if err != nil {
		return err
	}
	if out == "-" {
		return WritePOT(os.Stdout, msgs)
	}
	var b bytes.Buffer
	if err := WritePOT(&b, msgs); err != nil {
		return err
	}
	// Replace the template whole: an interrupted run leaves the old one.
	tmp, err := os.CreateTemp(filepath.Dir(out), ".airlock.pot.*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b.Bytes()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), out)
}
