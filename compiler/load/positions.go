package load

import (
	"strconv"
	"strings"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/cue/token"

	"github.com/slipway-ml/slipway/compiler/diag"
)

// Positions maps CUE paths ("pipelines.churn.training.model") to where the
// user wrote them: the position of the field's label in the user's files.
// It lets the compiler point at the user's text for values whose own position
// lies in the schema (a default, a missing field's parent).
type Positions map[string]diag.Pos

// Entries that are not CUE paths have keys starting with a NUL byte, which
// no joined path does (JoinPath quotes a label holding one).
const (
	// packageKey+file is the position of the file's package name.
	packageKey = "\x00package\x00"
	// importKey+file+NUL+path is the position of an import of path.
	importKey = "\x00import\x00"
)

// indexFile records the label positions of every field in a parsed file,
// and where it names its package and its imports.
func (p Positions) indexFile(f *ast.File) {
	for _, d := range f.Decls {
		if c, ok := d.(*ast.Package); ok && c.Name != nil {
			p[packageKey+f.Filename] = toPos(c.Name.Pos())
		}
	}
	for spec := range f.ImportSpecs() {
		if spec.Path == nil {
			continue
		}
		if path, err := strconv.Unquote(spec.Path.Value); err == nil {
			p[importKey+f.Filename+"\x00"+path] = toPos(spec.Path.Pos())
		}
	}
	p.indexDecls(nil, f.Decls)
}

// packageClause returns the position of the package name in file, if the
// file has a package clause.
func (p Positions) packageClause(file string) (diag.Pos, bool) {
	pos, ok := p[packageKey+file]
	return pos, ok
}

// importAt returns the import path the user wrote at pos.
func (p Positions) importAt(pos diag.Pos) (string, bool) {
	for k, v := range p {
		if rest, ok := strings.CutPrefix(k, importKey); ok && v == pos {
			_, path, _ := strings.Cut(rest, "\x00")
			return path, true
		}
	}
	return "", false
}

func (p Positions) indexDecls(prefix []string, decls []ast.Decl) {
	for _, d := range decls {
		switch d := d.(type) {
		case *ast.Field:
			label, ok := labelName(d.Label)
			if !ok {
				continue
			}
			path := append(append([]string(nil), prefix...), label)
			key := diag.JoinPath(path)
			if _, seen := p[key]; !seen {
				p[key] = toPos(d.Label.Pos())
			}
			p.indexExpr(path, d.Value)
		case *ast.EmbedDecl:
			p.indexExpr(prefix, d.Expr)
		}
	}
}

func (p Positions) indexExpr(path []string, x ast.Expr) {
	switch x := x.(type) {
	case *ast.StructLit:
		p.indexDecls(path, x.Elts)
	case *ast.ListLit:
		for i, e := range x.Elts {
			ep := append(append([]string(nil), path...), strconv.Itoa(i))
			key := diag.JoinPath(ep)
			if _, seen := p[key]; !seen {
				p[key] = toPos(e.Pos())
			}
			p.indexExpr(ep, e)
		}
	case *ast.BinaryExpr:
		if x.Op == token.AND {
			p.indexExpr(path, x.X)
			p.indexExpr(path, x.Y)
		}
	case *ast.ParenExpr:
		p.indexExpr(path, x.X)
	}
}

// Lookup returns the position of path, or of its nearest ancestor the user
// wrote, and whether the path itself was found. When no part of the path was
// written (the empty path, a field only the schema sets at the top), it
// falls back to the package clause of the first file.
func (p Positions) Lookup(path []string) (diag.Pos, bool) {
	for n := len(path); n > 0; n-- {
		if pos, ok := p[diag.JoinPath(path[:n])]; ok {
			return pos, n == len(path)
		}
	}
	var first diag.Pos
	for k, v := range p {
		if strings.HasPrefix(k, packageKey) && (first.File == "" || v.File < first.File) {
			first = v
		}
	}
	return first, false
}

func labelName(l ast.Label) (string, bool) {
	switch l := l.(type) {
	case *ast.Ident:
		if strings.HasPrefix(l.Name, "#") || strings.HasPrefix(l.Name, "_") {
			return "", false
		}
		return l.Name, true
	case *ast.BasicLit:
		if l.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(l.Value)
		if err != nil {
			return "", false
		}
		return s, true
	}
	return "", false
}

func toPos(p token.Pos) diag.Pos {
	if !p.IsValid() {
		return diag.Pos{}
	}
	return diag.Pos{File: p.Filename(), Line: p.Line(), Column: p.Column()}
}

// parseForPositions parses a file only to index its positions; parse errors
// are reported by the loader itself.
func parseForPositions(name string, src []byte) *ast.File {
	f, err := parser.ParseFile(name, src, parser.ParseComments)
	if err != nil {
		return nil
	}
	return f
}
