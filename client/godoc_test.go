package client_test

import (
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"io/fs"
	"strings"
	"testing"
)

// clientDoc is the package's documentation as go doc reads it.
func clientDoc(t *testing.T) *doc.Package {
	t.Helper()
	fset := token.NewFileSet()
	files, err := parser.ParseDir(fset, ".", func(fi fs.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	pkg, ok := files["client"]
	if !ok {
		t.Fatal("no package client here")
	}
	return doc.New(pkg, "github.com/latchkey/latchkey/client", 0)
}

// TestExportedAPINamesExportedTypes checks that no exported function, method or non-struct
// type names an unexported type in its signature: go doc would show a type a user cannot
// read or name.
func TestExportedAPINamesExportedTypes(t *testing.T) {
	p := clientDoc(t)
	check := func(where string, node ast.Node) {
		ast.Inspect(node, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.SelectorExpr:
				return false // another package's name, exported by construction
			case *ast.Ident:
				if !n.IsExported() && n.Obj != nil && n.Obj.Kind == ast.Typ {
					t.Errorf("%s names the unexported type %s", where, n.Name)
				}
			}
			return true
		})
	}
	funcs := func(fs []*doc.Func) {
		for _, f := range fs {
			check(f.Name, f.Decl.Type)
		}
	}
	funcs(p.Funcs)
	for _, typ := range p.Types {
		funcs(typ.Funcs)
		funcs(typ.Methods)
		for _, spec := range typ.Decl.Specs {
			ts := spec.(*ast.TypeSpec)
			switch ts.Type.(type) {
			case *ast.StructType, *ast.InterfaceType:
				// Their unexported fields and methods are hidden by go doc.
			default:
				check(typ.Name, ts.Type)
			}
		}
	}
}

// TestLogInDocWarnsOfKeySessions checks that go doc tells, where a reader looks, that a key
// login on the owner's App replaces the owner's session, and what to do instead.
func TestLogInDocWarnsOfKeySessions(t *testing.T) {
	p := clientDoc(t)
	docs := map[string]string{}
	for _, typ := range p.Types {
		for _, m := range typ.Methods {
			docs[typ.Name+"."+m.Name] = m.Doc
		}
		for _, f := range typ.Funcs {
			docs[f.Name] = f.Doc
		}
	}
	for _, f := range p.Funcs {
		docs[f.Name] = f.Doc
	}
	if d := docs["App.LogIn"]; !strings.Contains(d, "replaces that user's session") || !strings.Contains(d, "second App") {
		t.Errorf("App.LogIn's doc does not warn of key sessions and the second App:\n%s", d)
	}
	if d := docs["APIKeyCredentials"]; !strings.Contains(d, "App.LogIn") {
		t.Errorf("APIKeyCredentials' doc does not point to App.LogIn:\n%s", d)
	}
}
