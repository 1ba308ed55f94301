package dataset

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slipway-ml/slipway/compiler/spec"
	"github.com/slipway-ml/slipway/runners/train/table"
)

// cols declares columns as name:type pairs; a trailing "?" makes one
// nullable.
func cols(pairs ...string) map[string]*spec.Column {
	m := map[string]*spec.Column{}
	for _, p := range pairs {
		name, typ, _ := strings.Cut(p, ":")
		nullable := strings.HasSuffix(typ, "?")
		typ = strings.TrimSuffix(typ, "?")
		m[name] = &spec.Column{Name: name, Type: typ, Nullable: nullable}
	}
	return m
}

func mustRead(t *testing.T, s, format string, c map[string]*spec.Column, opts ...Option) *table.Table {
	t.Helper()
	tb, err := Read(strings.NewReader(s), format, c, opts...)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return tb
}

func wantErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Fatalf("error %q does not contain %q", err, p)
		}
	}
}

// texts returns every row of a column as text, "<null>" when missing.
func texts(c *table.Column) []string {
	out := make([]string, c.Len())
	for i := range out {
		s, ok := c.Text(i)
		if !ok {
			s = "<null>"
		}
		out[i] = s
	}
	return out
}

func TestReadUnknownFormat(t *testing.T) {
	_, err := Read(strings.NewReader(""), "xlsx", nil)
	wantErr(t, err, `unknown format "xlsx"`, "csv, jsonl or parquet")
	_, err = Read(strings.NewReader("a\n1\n"), CSV, cols("a:number"))
	wantErr(t, err, `declared column "a"`, `unknown type "number"`)
}

func TestReadCSV(t *testing.T) {
	c := cols("id:int", "score:float", "when:timestamp?")
	c["when"].Layout = "2006-01-02"
	tb := mustRead(t, "id,score,when,extra\n1,0.5,2024-03-01,x\n2,,,y\n", CSV, c)
	if got := tb.Column("when").Ints[0]; got != time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC).UnixNano() {
		t.Errorf("when = %d", got)
	}
	if typ := tb.Column("extra").Type; typ != table.Category {
		t.Errorf("extra inferred as %s", typ)
	}
	if typ := tb.Column("id").Type; typ != table.Int {
		t.Errorf("id is %s", typ)
	}

	_, err := Read(strings.NewReader("id\nabc\n"), CSV, cols("id:int"))
	wantErr(t, err, "row 1", `column "id"`, "not an int")

	_, err = Read(strings.NewReader("id,x\n1,2\n"), CSV, cols("id:int", "missing:float"))
	wantErr(t, err, `declared column "missing" is not in the header`)

	tb = mustRead(t, "id,x\n1,2\n3,4\n", CSV, cols("id:int", "missing:float", "x:float"), AllowMissingColumns())
	if got := tb.Names(); strings.Join(got, ",") != "id,x" || tb.Rows() != 2 {
		t.Errorf("names %v rows %d", got, tb.Rows())
	}
	if typ := tb.Column("x").Type; typ != table.Float {
		t.Errorf("x is %s, declared float", typ)
	}

	_, err = Read(strings.NewReader("a\n1\n2\n3\n"), CSV, nil, MaxRows(2))
	wantErr(t, err, "more than 2 rows")
	_, err = Read(strings.NewReader("a\n1\n2\n3\n"), CSV, nil, MaxBytes(4))
	wantErr(t, err, "over 4 bytes")
}

func TestReadJSONLTypes(t *testing.T) {
	in := "\ufeff" + `{"i": 1, "f": 1.5, "b": true, "ts": "2024-01-02T03:04:05Z", "c": "a", "n": null}
{"i": -2, "f": 2, "b": false, "c": "b", "mixed": 1}

{"i": null, "f": null, "ts": "2024-01-03T00:00:00+01:00", "c": null, "mixed": "x", "late": "2024-05-05T00:00:00Z"}
`
	tb := mustRead(t, in, JSONL, nil)
	wantTypes := map[string]table.Type{
		"i": table.Int, "f": table.Float, "b": table.Bool, "ts": table.Timestamp,
		"c": table.Category, "n": table.Float, "mixed": table.Category, "late": table.Timestamp,
	}
	for name, typ := range wantTypes {
		if got := tb.Column(name).Type; got != typ {
			t.Errorf("column %s: %s, want %s", name, got, typ)
		}
	}
	if got := strings.Join(tb.Names(), ","); got != "i,f,b,ts,c,n,mixed,late" {
		t.Errorf("column order %s", got)
	}
	if tb.Rows() != 3 {
		t.Fatalf("rows %d", tb.Rows())
	}
	checks := map[string]string{
		"i":     "1,-2,<null>",
		"f":     "1.5,2,<null>",
		"b":     "true,false,<null>",
		"ts":    "2024-01-02T03:04:05Z,<null>,2024-01-02T23:00:00Z",
		"c":     "a,b,<null>",
		"n":     "<null>,<null>,<null>",
		"mixed": "<null>,1,x",
		"late":  "<null>,<null>,2024-05-05T00:00:00Z",
	}
	for name, want := range checks {
		if got := strings.Join(texts(tb.Column(name)), ","); got != want {
			t.Errorf("column %s: %s, want %s", name, got, want)
		}
	}
}

func TestReadJSONLDeclared(t *testing.T) {
	c := cols("id:int", "amount:float", "ok:bool", "code:string", "kind:category", "day:timestamp", "opt:int?")
	c["day"].Layout = "2006-01-02"
	in := `{"id": "9007199254740993", "amount": "2.5", "ok": "TRUE", "code": 12, "kind": true, "day": "2024-02-29"}
{"id": 3.0, "amount": 4, "ok": false, "code": "x", "kind": "k", "day": null}
`
	tb := mustRead(t, in, JSONL, c)
	checks := map[string]string{
		"id":     "9007199254740993,3",
		"amount": "2.5,4",
		"ok":     "true,false",
		"code":   "12,x",
		"kind":   "true,k",
		"day":    "2024-02-29T00:00:00Z,<null>",
		"opt":    "<null>,<null>",
	}
	for name, want := range checks {
		col := tb.Column(name)
		if col == nil {
			t.Fatalf("no column %s", name)
		}
		if string(col.Type) != c[name].Type {
			t.Errorf("column %s: type %s, declared %s", name, col.Type, c[name].Type)
		}
		if got := strings.Join(texts(col), ","); got != want {
			t.Errorf("column %s: %s, want %s", name, got, want)
		}
	}
}

func TestReadJSONLErrors(t *testing.T) {
	cases := []struct {
		name string
		in   string
		cols map[string]*spec.Column
		opts []Option
		want []string
	}{
		{"not an object", "[1,2]\n", nil, nil, []string{"line 1", "expected a JSON object, found an array"}},
		{"invalid", "{\"a\": 1}\n{\"a\": }\n", nil, nil, []string{"line 2", "invalid JSON"}},
		{"nested", "{\"a\": {\"b\": 1}}\n", nil, nil, []string{"line 1", `column "a"`, "found an object", "flatten"}},
		{"array value", "{\"a\": [1]}\n", nil, nil, []string{`column "a"`, "found an array"}},
		{"two objects", "{\"a\": 1} {\"a\": 2}\n", nil, nil, []string{"line 1", "after the object"}},
		{"duplicate key", "{\"a\": 1, \"a\": 2}\n", nil, nil, []string{"line 1", `key "a" appears twice`}},
		{"empty key", "{\"\": 1}\n", nil, nil, []string{"line 1", "empty key"}},
		{"declared int", "{\"a\": 1}\n\n{\"a\": \"x\"}\n", cols("a:int"), nil, []string{"line 3", `column "a"`, `"x" is not an int`}},
		{"declared int fraction", "{\"a\": 1.5}\n", cols("a:int"), nil, []string{"line 1", "1.5 is not an int"}},
		{"declared int bool", "{\"a\": true}\n", cols("a:int"), nil, []string{"true is not an int"}},
		{"declared float", "{\"a\": \"1_000\"}\n", cols("a:float"), nil, []string{`"1_000" is not a number`}},
		{"declared bool", "{\"a\": 1}\n", cols("a:bool"), nil, []string{"1 is not a boolean"}},
		{"declared timestamp", "{\"a\": 17}\n", cols("a:timestamp"), nil, []string{"17 is not a timestamp string"}},
		{"timestamp layout", "{\"a\": \"2024-01-01\"}\n", cols("a:timestamp"), nil, []string{`"2024-01-01" is not a timestamp in layout`}},
		{"timestamp range", "{\"a\": \"1500-01-01T00:00:00Z\"}\n", cols("a:timestamp"), nil, []string{"outside the years"}},
		{"inferred after window", "{\"a\": 1}\n{\"a\": 2}\n{\"a\": \"x\"}\n", nil, []Option{InferRows(2)}, []string{"line 3", `"x" is not an int`, "inferred from earlier lines", "InferRows"}},
		{"late column decided by first value", "{\"a\": 1}\n{\"b\": true}\n{\"b\": 2}\n", nil, []Option{InferRows(1)}, []string{"line 3", `column "b"`, "2 is not a boolean"}},
		{"max rows", "{\"a\": 1}\n{\"a\": 2}\n{\"a\": 3}\n", nil, []Option{MaxRows(2)}, []string{"line 3", "more than 2 rows"}},
		{"max line", "{\"a\": \"" + strings.Repeat("x", 100) + "\"}\n", nil, []Option{MaxLineBytes(50)}, []string{"line 1", "over 50 bytes"}},
		{"max bytes", strings.Repeat("{\"a\": 1}\n", 100), nil, []Option{MaxBytes(64)}, []string{"over 64 bytes"}},
		{"missing declared", "{\"a\": 1}\n", cols("a:int", "b:float"), nil, []string{`declared column "b" is in no line`}},
		{"empty objects", "{}\n{}\n", nil, nil, []string{"2 lines but no keys"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(c.in), JSONL, c.cols, c.opts...)
			wantErr(t, err, append([]string{"read jsonl"}, c.want...)...)
		})
	}
}

func TestReadJSONLInference(t *testing.T) {
	// After the inference window an int column still widens to float.
	tb := mustRead(t, "{\"a\": 1}\n{\"a\": null}\n{\"a\": 2.5}\n", JSONL, nil, InferRows(1))
	a := tb.Column("a")
	if a.Type != table.Float || strings.Join(texts(a), ",") != "1,<null>,2.5" {
		t.Errorf("widened column %s: %v", a.Type, texts(a))
	}
	// A column first seen after the window is null before it.
	tb = mustRead(t, "{\"a\": 1}\n{\"a\": 2}\n{\"a\": 3, \"b\": \"x\"}\n", JSONL, nil, InferRows(1))
	if b := tb.Column("b"); b.Type != table.Category || strings.Join(texts(b), ",") != "<null>,<null>,x" {
		t.Errorf("late column %s: %v", b.Type, texts(b))
	}
	// A JSON string never infers as a number.
	tb = mustRead(t, "{\"zip\": \"02139\"}\n{\"zip\": \"10001\"}\n", JSONL, nil)
	if z := tb.Column("zip"); z.Type != table.Category || strings.Join(texts(z), ",") != "02139,10001" {
		t.Errorf("zip %s: %v", z.Type, texts(z))
	}
	// Many distinct values make a string column.
	var sb strings.Builder
	for i := range table.DefaultMaxInferredCategories + 1 {
		sb.WriteString(`{"s": "v` + strconv.Itoa(i) + `"}` + "\n")
	}
	tb = mustRead(t, sb.String(), JSONL, nil)
	if s := tb.Column("s"); s.Type != table.String {
		t.Errorf("high-cardinality column is %s", s.Type)
	}
	// A declared nullable column no line names is all nulls; a missing
	// non-nullable one is left out when allowed.
	tb = mustRead(t, "{\"a\": 1}\n{\"a\": 2}\n", JSONL, cols("a:int", "opt:string?", "req:float"), AllowMissingColumns())
	if got := strings.Join(tb.Names(), ","); got != "a,opt" {
		t.Errorf("names %s", got)
	}
	if o := tb.Column("opt"); o.Type != table.String || o.NullCount() != 2 {
		t.Errorf("opt %s with %d nulls", o.Type, o.NullCount())
	}
	// An empty file has the declared columns and no rows.
	tb = mustRead(t, "", JSONL, cols("a:int", "b:category"))
	if tb.Rows() != 0 || len(tb.Columns()) != 2 || tb.Column("b").Type != table.Category {
		t.Errorf("empty: %d rows, columns %v", tb.Rows(), tb.Names())
	}
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "d.jsonl")
	if err := os.WriteFile(p, []byte("{\"a\": 1}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tb, err := ReadFile(p, JSONL, nil)
	if err != nil || tb.Rows() != 1 {
		t.Fatalf("ReadFile: %v", err)
	}
	_, err = ReadFile(filepath.Join(dir, "none.csv"), CSV, nil)
	wantErr(t, err, "none.csv")
	if err := os.WriteFile(p, []byte("{\"a\": x}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = ReadFile(p, JSONL, nil)
	wantErr(t, err, p, "line 1")
}

// equalTables reports how a and b differ: names, types, rows, values,
// nulls and dictionaries.
func equalTables(a, b *table.Table) string {
	if strings.Join(a.Names(), "\x00") != strings.Join(b.Names(), "\x00") {
		return "names " + strings.Join(a.Names(), ",") + " vs " + strings.Join(b.Names(), ",")
	}
	if a.Rows() != b.Rows() {
		return "rows " + strconv.Itoa(a.Rows()) + " vs " + strconv.Itoa(b.Rows())
	}
	for j, ca := range a.Columns() {
		cb := b.Columns()[j]
		if ca.Type != cb.Type {
			return "column " + ca.Name + ": type " + string(ca.Type) + " vs " + string(cb.Type)
		}
		if ca.Type.Text() && strings.Join(ca.Dict, "\x00") != strings.Join(cb.Dict, "\x00") {
			return "column " + ca.Name + ": dictionaries differ"
		}
		for i := range a.Rows() {
			if ca.IsNull(i) != cb.IsNull(i) {
				return "column " + ca.Name + ": null differs at row " + strconv.Itoa(i)
			}
			if ca.IsNull(i) {
				continue
			}
			switch ca.Type {
			case table.Float:
				if math.Float64bits(ca.Floats[i]) != math.Float64bits(cb.Floats[i]) {
					return "column " + ca.Name + ": float differs at row " + strconv.Itoa(i)
				}
			case table.Int, table.Timestamp:
				if ca.Ints[i] != cb.Ints[i] {
					return "column " + ca.Name + ": int differs at row " + strconv.Itoa(i)
				}
			case table.Bool:
				if ca.Bools[i] != cb.Bools[i] {
					return "column " + ca.Name + ": bool differs at row " + strconv.Itoa(i)
				}
			default:
				if ca.Codes[i] != cb.Codes[i] {
					return "column " + ca.Name + ": code differs at row " + strconv.Itoa(i)
				}
			}
		}
	}
	return ""
}

func roundTrip(t *testing.T, tb *table.Table) (*table.Table, []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteParquet(&buf, tb); err != nil {
		t.Fatalf("WriteParquet: %v", err)
	}
	back, err := Read(bytes.NewReader(buf.Bytes()), Parquet, nil)
	if err != nil {
		t.Fatalf("read back: %v", err)
	}
	return back, buf.Bytes()
}

// sample is a table of every type with nulls.
func sample(t *testing.T) *table.Table {
	t.Helper()
	valid := table.NewBitmap(4, true)
	valid.Clear(2)
	tb, err := table.New(
		table.NewInt("zeta_id", []int64{1, -2, 0, math.MaxInt64}, valid),
		table.NewFloat("score", []float64{0.5, math.NaN(), math.Inf(1), -0.0}),
		table.NewBool("ok", []bool{true, false, false, true}, valid),
		table.NewText("plan", table.Category, []string{"basic", "pro", "", "basic"}, valid),
		table.NewText("note", table.String, []string{"héllo", "", "x", "a,b\n\"c\""}, nil),
		table.NewTimestamp("at", []int64{0, 1700000000123456789, -1, 5}, valid),
	)
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

func TestParquetRoundTrip(t *testing.T) {
	tb := sample(t)
	back, _ := roundTrip(t, tb)
	if d := equalTables(tb, back); d != "" {
		t.Fatalf("round trip: %s", d)
	}
	// A dictionary that is not in order of first appearance, with an
	// unused entry, comes back as it was.
	sub := tb.Subset([]int{3, 1, 3})
	back, _ = roundTrip(t, sub)
	if d := equalTables(sub, back); d != "" {
		t.Fatalf("subset round trip: %s", d)
	}
	// No rows.
	empty := tb.Subset(nil)
	back, _ = roundTrip(t, empty)
	if d := equalTables(empty, back); d != "" {
		t.Fatalf("empty round trip: %s", d)
	}
	// Declared types apply on reading back.
	var buf bytes.Buffer
	if err := WriteParquet(&buf, tb); err != nil {
		t.Fatal(err)
	}
	decl := cols("plan:string", "note:category", "zeta_id:float")
	re, err := Read(bytes.NewReader(buf.Bytes()), Parquet, decl)
	if err != nil {
		t.Fatal(err)
	}
	if re.Column("plan").Type != table.String || re.Column("note").Type != table.Category || re.Column("zeta_id").Type != table.Float {
		t.Errorf("declared types not applied: %s %s %s", re.Column("plan").Type, re.Column("note").Type, re.Column("zeta_id").Type)
	}
	if got := strings.Join(texts(re.Column("zeta_id")), ","); got != "1,-2,<null>,9.223372036854776e+18" {
		t.Errorf("int read as float: %s", got)
	}
	_, err = Read(bytes.NewReader(buf.Bytes()), Parquet, cols("score:int"))
	wantErr(t, err, "read parquet", `column "score"`, "declared int", "DOUBLE")
	_, err = Read(bytes.NewReader(buf.Bytes()), Parquet, cols("gone:int"))
	wantErr(t, err, `declared column "gone" is not in the file`)
	re, err = Read(bytes.NewReader(buf.Bytes()), Parquet, cols("gone:int"), AllowMissingColumns())
	if err != nil || re.Column("gone") != nil || len(re.Columns()) != 6 {
		t.Errorf("AllowMissingColumns: %v", err)
	}
	_, err = Read(bytes.NewReader(buf.Bytes()), Parquet, nil, MaxRows(3))
	wantErr(t, err, "4 rows is more than 3")
	_, err = Read(bytes.NewReader(buf.Bytes()), Parquet, nil, MaxBytes(100))
	wantErr(t, err, "over 100 bytes")
}

// sampleDigest is the SHA-256 of WriteParquet(sample). It pins the bytes
// across processes and machines; it changes only when the file layout
// does (a new parquet-go, a new writer option), which then shows here.
const sampleDigest = "bbd007ecc70ddada55c3092649b50313bf815f2020e64b2d353c659451e56c8e"

func TestParquetDeterministic(t *testing.T) {
	_, a := roundTrip(t, sample(t))
	if got := fmt.Sprintf("%x", sha256.Sum256(a)); got != sampleDigest {
		t.Errorf("digest %s, want %s", got, sampleDigest)
	}
	_, b := roundTrip(t, sample(t))
	if !bytes.Equal(a, b) {
		t.Fatal("the same table wrote different bytes")
	}
	// The bytes are a function of the table, not of how it was built.
	back, err := Read(bytes.NewReader(a), Parquet, nil)
	if err != nil {
		t.Fatal(err)
	}
	var c bytes.Buffer
	if err := WriteParquet(&c, back); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, c.Bytes()) {
		t.Fatal("a table read back writes different bytes")
	}
}

func TestParquetReaders(t *testing.T) {
	_, data := roundTrip(t, sample(t))
	dir := t.TempDir()
	p := filepath.Join(dir, "s.parquet")
	if err := WriteParquetFile(p, sample(t)); err != nil {
		t.Fatal(err)
	}
	onDisk, err := os.ReadFile(p)
	if err != nil || !bytes.Equal(onDisk, data) {
		t.Fatalf("WriteParquetFile wrote other bytes (%v)", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("temporary files left: %d entries", len(ents))
	}
	if err := WriteParquetFile(filepath.Join(dir, "no", "such", "x.parquet"), sample(t)); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
	// From a path, from an *os.File, and from a plain stream.
	fromPath, err := ReadFile(p, Parquet, nil)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fromFile, err := Read(f, Parquet, nil)
	if err != nil {
		t.Fatal(err)
	}
	fromStream, err := Read(io.MultiReader(bytes.NewReader(data)), Parquet, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, got := range []*table.Table{fromPath, fromFile, fromStream} {
		if d := equalTables(sample(t), got); d != "" {
			t.Errorf("read: %s", d)
		}
	}
	_, err = Read(io.MultiReader(bytes.NewReader(data)), Parquet, nil, MaxBytes(100))
	wantErr(t, err, "over 100 bytes")
	_, err = Read(strings.NewReader("PAR1 not really"), Parquet, nil)
	wantErr(t, err, "read parquet")
}

func TestWriteParquetEmpty(t *testing.T) {
	tb, err := table.New()
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, WriteParquet(io.Discard, tb), "no columns")
}

func TestFormatOf(t *testing.T) {
	for name, want := range map[string]string{
		"a.csv": "csv", "a.CSV": "csv", "a": "csv", "a.txt": "csv",
		"a.jsonl": "jsonl", "A.NDJSON": "jsonl", "dir.parquet/a.parquet": "parquet",
	} {
		if got := FormatOf(name); got != want {
			t.Errorf("FormatOf(%q) = %q, want %q", name, got, want)
		}
	}
}
