package table

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"
)

func read(t *testing.T, s string, opts ReadOptions) *Table {
	t.Helper()
	tb, err := ReadCSV(strings.NewReader(s), opts)
	if err != nil {
		t.Fatalf("ReadCSV: %v", err)
	}
	return tb
}

func readErr(t *testing.T, s string, opts ReadOptions, want string) {
	t.Helper()
	_, err := ReadCSV(strings.NewReader(s), opts)
	if err == nil {
		t.Fatalf("ReadCSV succeeded, want an error containing %q", want)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not contain %q", err, want)
	}
}

func TestInference(t *testing.T) {
	tb := read(t, "i,f,b,ts,c,e\n"+
		"1,1.5,true,2024-01-02T03:04:05Z,a,\n"+
		",2,FALSE,,b,\n"+
		"-3,,True,2024-01-03T00:00:00+01:00,,\n", ReadOptions{})
	want := map[string]Type{"i": Int, "f": Float, "b": Bool, "ts": Timestamp, "c": Category, "e": Float}
	for name, typ := range want {
		if got := tb.Column(name).Type; got != typ {
			t.Errorf("column %s: type %s, want %s", name, got, typ)
		}
	}
	if tb.Rows() != 3 {
		t.Fatalf("rows %d", tb.Rows())
	}
	i := tb.Column("i")
	if i.Ints[0] != 1 || !i.IsNull(1) || i.Ints[2] != -3 || i.NullCount() != 1 {
		t.Errorf("int column %v valid %v", i.Ints, i.Valid)
	}
	f := tb.Column("f")
	if f.Floats[0] != 1.5 || f.Floats[1] != 2 || !math.IsNaN(f.Floats[2]) {
		t.Errorf("float column %v", f.Floats)
	}
	b := tb.Column("b")
	if !b.Bools[0] || b.Bools[1] || !b.Bools[2] || b.Valid != nil {
		t.Errorf("bool column %v %v", b.Bools, b.Valid)
	}
	ts := tb.Column("ts")
	if ts.Ints[0] != time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano() || !ts.IsNull(1) ||
		ts.Ints[2] != time.Date(2024, 1, 2, 23, 0, 0, 0, time.UTC).UnixNano() {
		t.Errorf("timestamp column %v", ts.Ints)
	}
	c := tb.Column("c")
	if s, _ := c.Text(1); s != "b" || !c.IsNull(2) || c.Codes[2] != -1 {
		t.Errorf("category column %v %v", c.Codes, c.Dict)
	}
	if e := tb.Column("e"); e.NullCount() != 3 {
		t.Errorf("empty column has %d nulls", e.NullCount())
	}
}

func TestQuoting(t *testing.T) {
	tb := read(t, "name,note\n\"Smith, J\",\"said \"\"hi\"\"\"\n\"multi\nline\",\"\"\n", ReadOptions{})
	n := tb.Column("name")
	if s, _ := n.Text(0); s != "Smith, J" {
		t.Errorf("quoted comma: %q", s)
	}
	if s, _ := n.Text(1); s != "multi\nline" {
		t.Errorf("quoted newline: %q", s)
	}
	note := tb.Column("note")
	if s, _ := note.Text(0); s != `said "hi"` {
		t.Errorf("doubled quotes: %q", s)
	}
	if !note.IsNull(1) {
		t.Errorf("quoted empty field should be null")
	}
}

func TestDeclaredTypes(t *testing.T) {
	opts := ReadOptions{Types: map[string]Type{"zip": String, "n": Float, "when": Timestamp},
		Layouts: map[string]string{"when": "2006-01-02"}}
	tb := read(t, "zip,n,when,x\n02134,1,2024-05-06,7\n10001,,2023-12-31,8\n", opts)
	zip := tb.Column("zip")
	if zip.Type != String {
		t.Fatalf("zip is %s", zip.Type)
	}
	if s, _ := zip.Text(0); s != "02134" {
		t.Errorf("zip kept as text: %q", s)
	}
	if n := tb.Column("n"); n.Type != Float || n.Floats[0] != 1 || !math.IsNaN(n.Floats[1]) {
		t.Errorf("declared float: %v", n.Floats)
	}
	if w := tb.Column("when"); w.Ints[1] != time.Date(2023, 12, 31, 0, 0, 0, 0, time.UTC).UnixNano() {
		t.Errorf("layout: %v", w.Ints)
	}
	if x := tb.Column("x"); x.Type != Int {
		t.Errorf("undeclared column inferred as %s", x.Type)
	}
	readErr(t, "a\n1\n", ReadOptions{Types: map[string]Type{"b": Int}}, `declared column "b" is not in the header`)
	readErr(t, "a\n1\n", ReadOptions{Types: map[string]Type{"a": "decimal"}}, `unknown declared type`)
}

func TestBadValues(t *testing.T) {
	var sb strings.Builder
	sb.WriteString("id,tenure\n")
	for i := 1; i <= 16; i++ {
		fmt.Fprintf(&sb, "%d,%d\n", i, i)
	}
	sb.WriteString("17,abc\n")
	readErr(t, sb.String(), ReadOptions{Types: map[string]Type{"tenure": Int}}, `row 17 (line 18), column "tenure": "abc" is not an int`)
	readErr(t, "b\ntrue\nyes\n", ReadOptions{Types: map[string]Type{"b": Bool}}, `row 2 (line 3), column "b": "yes" is not a bool`)
	readErr(t, "t\n2024-13-01T00:00:00Z\n", ReadOptions{Types: map[string]Type{"t": Timestamp}}, `row 1 (line 2), column "t"`)
	readErr(t, "f\n1.5\nx\n", ReadOptions{Types: map[string]Type{"f": Float}}, `"x" is not a number`)
	// After the inference window a value that does not fit is an error with a hint.
	readErr(t, "a\n1\n2\nx\n", ReadOptions{InferRows: 2}, `row 3 (line 4), column "a": "x" is not an int (type inferred`)
	// Within it the column becomes text.
	if c := read(t, "a\n1\n2\nx\n", ReadOptions{}).Column("a"); c.Type != Category {
		t.Errorf("mixed column is %s", c.Type)
	} else if s, _ := c.Text(0); s != "1" {
		t.Errorf("text kept: %q", s)
	}
	// An inferred int widens to float after the window.
	if c := read(t, "a\n1\n\"\"\n2.5\n", ReadOptions{InferRows: 1}).Column("a"); c.Type != Float || c.Floats[0] != 1 || !math.IsNaN(c.Floats[1]) || c.Floats[2] != 2.5 {
		t.Errorf("widened column %s %v", c.Type, c.Floats)
	}
	// A column empty in the window takes its type from its first value.
	if c := read(t, "a,b\n1,\n2,\n3,x\n", ReadOptions{InferRows: 2}).Column("b"); c.Type != Category || !c.IsNull(0) || !c.IsNull(1) {
		t.Errorf("late column %s %v", c.Type, c.Codes)
	}
}

func TestShapeErrors(t *testing.T) {
	readErr(t, "", ReadOptions{}, "empty input: no header row")
	readErr(t, "a,b\n1,2\n3\n", ReadOptions{}, "row 2 (line 3): 1 fields, the header has 2")
	readErr(t, "a,b\n1,2,3\n", ReadOptions{}, "row 1 (line 2): 3 fields")
	readErr(t, "a,a\n1,2\n", ReadOptions{}, `column "a" appears twice`)
	readErr(t, "a,\n1,2\n", ReadOptions{}, "column 2 has an empty name")
	readErr(t, "a\n\"unterminated\n", ReadOptions{}, "read csv")
	readErr(t, "a\n1\n2\n3\n", ReadOptions{MaxRows: 2}, "more than 2 rows")
	readErr(t, "a\nabcdef\n", ReadOptions{MaxFieldBytes: 3}, `row 1 (line 2), column "a": field of 6 bytes`)
	readErr(t, "a\n123456789\n", ReadOptions{MaxBytes: 5}, "over 5 bytes")
	if _, err := ReadCSV(strings.NewReader("a\n1\n"), ReadOptions{MaxBytes: 4}); err != nil {
		t.Errorf("input of exactly MaxBytes: %v", err)
	}

	tb := read(t, "\ufeffx,y\n", ReadOptions{Types: map[string]Type{"y": Category}})
	if tb.Rows() != 0 || tb.Column("x") == nil || tb.Column("x").Type != Float || tb.Column("y").Type != Category {
		t.Errorf("header only: rows %d names %v", tb.Rows(), tb.Names())
	}
}

func TestOptions(t *testing.T) {
	tb := read(t, "a;b\nNA;x\n2;NA\n", ReadOptions{Comma: ';', NullValues: []string{"NA"}})
	if a := tb.Column("a"); a.Type != Int || !a.IsNull(0) {
		t.Errorf("NA in a: %s", a.Type)
	}
	if b := tb.Column("b"); !b.IsNull(1) {
		t.Errorf("NA in b")
	}
	var sb strings.Builder
	sb.WriteString("id\n")
	for i := range 20 {
		fmt.Fprintf(&sb, "u%d\n", i)
	}
	if c := read(t, sb.String(), ReadOptions{MaxInferredCategories: 10}).Column("id"); c.Type != String {
		t.Errorf("high-cardinality column is %s", c.Type)
	}
}

func TestTableOps(t *testing.T) {
	tb := read(t, "a,b,c\n1,x,true\n2,,false\n3,y,\n", ReadOptions{})
	s, err := tb.Select("c", "a")
	if err != nil || strings.Join(s.Names(), ",") != "c,a" || s.Rows() != 3 {
		t.Fatalf("select: %v %v", s, err)
	}
	if _, err := tb.Select("nope"); err == nil {
		t.Error("select of a missing column succeeded")
	}
	d, err := tb.Drop("b")
	if err != nil || strings.Join(d.Names(), ",") != "a,c" || d.Column("b") != nil {
		t.Fatalf("drop: %v", err)
	}
	if _, err := tb.Drop("nope"); err == nil {
		t.Error("drop of a missing column succeeded")
	}
	sub := tb.Subset([]int{2, 0, 2})
	if sub.Rows() != 3 {
		t.Fatal(sub.Rows())
	}
	if a := sub.Column("a"); a.Ints[0] != 3 || a.Ints[1] != 1 {
		t.Errorf("subset ints %v", a.Ints)
	}
	if b := sub.Column("b"); !sub.Column("c").IsNull(0) || sub.Column("c").IsNull(1) {
		t.Errorf("subset validity")
	} else if v, _ := b.Text(1); v != "x" {
		t.Errorf("subset text %q", v)
	}
	if _, err := New(NewFloat("x", []float64{1}), NewFloat("y", []float64{1, 2})); err == nil {
		t.Error("ragged New succeeded")
	}
	if _, err := New(NewFloat("x", nil), NewFloat("x", nil)); err == nil {
		t.Error("duplicate New succeeded")
	}
	c := NewText("s", Category, []string{"p", "q", "p", "z"}, Bitmap{0b0111})
	if len(c.Dict) != 2 || c.Codes[2] != 0 || c.Codes[3] != -1 {
		t.Errorf("NewText %v %v", c.Codes, c.Dict)
	}
}

func TestChurn(t *testing.T) {
	f, err := os.Open("../../../examples/churn/data/churn.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tb, err := ReadCSV(f, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if tb.Rows() != 5000 || len(tb.Columns()) != 20 {
		t.Fatalf("%d rows, %d columns", tb.Rows(), len(tb.Columns()))
	}
	if c := tb.Column("state"); c.Type != Category || len(c.Dict) != 51 {
		t.Errorf("state: %s with %d values", c.Type, len(c.Dict))
	}
	if c := tb.Column("total_day_minutes"); c.Type != Float || c.Floats[0] != 265.1 {
		t.Errorf("total_day_minutes: %s", c.Type)
	}
}

func BenchmarkReadCSVChurn(b *testing.B) {
	buf, err := os.ReadFile("../../../examples/churn/data/churn.csv")
	if err != nil {
		b.Skip(err)
	}
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReadCSV(bytes.NewReader(buf), ReadOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadCSVChurnDeclared(b *testing.B) {
	buf, err := os.ReadFile("../../../examples/churn/data/churn.csv")
	if err != nil {
		b.Skip(err)
	}
	tb, err := ReadCSV(bytes.NewReader(buf), ReadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	types := map[string]Type{}
	for _, c := range tb.Columns() {
		types[c.Name] = c.Type
	}
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReadCSV(bytes.NewReader(buf), ReadOptions{Types: types}); err != nil {
			b.Fatal(err)
		}
	}
}

// genCSV writes rows of 20 columns: 12 float, 5 int, 3 category, with
// some missing values.
func genCSV(rows int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	var buf bytes.Buffer
	buf.Grow(rows * 140)
	for j := range 20 {
		if j > 0 {
			buf.WriteByte(',')
		}
		fmt.Fprintf(&buf, "c%d", j)
	}
	buf.WriteByte('\n')
	cats := []string{"alpha", "beta", "gamma", "delta", "epsilon", "zeta"}
	var tmp []byte
	for range rows {
		for j := range 20 {
			if j > 0 {
				buf.WriteByte(',')
			}
			if r.IntN(50) == 0 {
				continue
			}
			switch {
			case j < 12:
				tmp = fmt.Appendf(tmp[:0], "%.3f", r.NormFloat64()*100)
			case j < 17:
				tmp = fmt.Appendf(tmp[:0], "%d", r.IntN(1000))
			default:
				tmp = append(tmp[:0], cats[r.IntN(len(cats))]...)
			}
			buf.Write(tmp)
		}
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}

func BenchmarkReadCSV1M(b *testing.B) {
	buf := genCSV(1_000_000)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		tb, err := ReadCSV(bytes.NewReader(buf), ReadOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if tb.Rows() != 1_000_000 {
			b.Fatal(tb.Rows())
		}
	}
}

func FuzzReadCSV(f *testing.F) {
	f.Add([]byte("a,b\n1,x\n,\n"), false)
	f.Add([]byte("a,b\n\"q\"\"\",2024-01-01T00:00:00Z\n"), true)
	f.Add([]byte("x\n1\n2.5\ntrue\n"), false)
	f.Add([]byte(""), true)
	f.Fuzz(func(t *testing.T, in []byte, declare bool) {
		opts := ReadOptions{InferRows: 3, MaxFieldBytes: 1 << 10}
		if declare {
			opts.Types = map[string]Type{"a": Int, "b": Timestamp}
		}
		tb, err := ReadCSV(bytes.NewReader(in), opts)
		if err != nil {
			return
		}
		for _, c := range tb.Columns() {
			if c.Len() != tb.Rows() {
				t.Fatalf("column %q has %d rows, table %d", c.Name, c.Len(), tb.Rows())
			}
			for i := range c.Len() {
				c.Text(i)
				c.Number(i)
			}
		}
		tb.Subset([]int{})
	})
}

func TestPlainDecimal(t *testing.T) {
	for _, s := range []string{"1", "-1.5", "+.5", "3.", "1e5", "2.5E-10"} {
		if !plainDecimal(s) {
			t.Errorf("%q", s)
		}
		if _, ok := parseFloat(s); !ok {
			t.Errorf("parseFloat %q", s)
		}
	}
	for _, s := range []string{"", ".", "-", "1e", "1e999", "1.2.3", "NaN", "0x10", "1 "} {
		if plainDecimal(s) {
			t.Errorf("%q", s)
		}
	}
}
