package dataset

import (
	"bytes"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/slipway-ml/slipway/runners/train/table"
)

// foreign is a row of a Parquet file as other tools write one: no
// slipway metadata, a variety of physical and logical types.
type foreign struct {
	I32   int32            `parquet:"i32"`
	U64   uint64           `parquet:"u64"`
	I8    int32            `parquet:"i8,int(8)"`
	F32   float32          `parquet:"f32"`
	F64   *float64         `parquet:"f64,optional"`
	Flag  bool             `parquet:"flag"`
	Str   string           `parquet:"str"`
	Raw   []byte           `parquet:"raw"`
	Enum  string           `parquet:"enum,enum"`
	Ms    time.Time        `parquet:"ms,timestamp(millisecond)"`
	Us    int64            `parquet:"us,timestamp(microsecond)"`
	Day   int32            `parquet:"day,date"`
	Cents int64            `parquet:"cents,decimal(2:10)"`
	Whole int32            `parquet:"whole,decimal(0:9)"`
	Old   deprecated.Int96 `parquet:"old"`
	Text  string           `parquet:"text"`
}

func writeForeign[T any](t *testing.T, rows []T) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[T](&buf)
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// int96 is t as Spark writes an INT96 timestamp.
func int96(t time.Time) deprecated.Int96 {
	days := t.Unix()/86400 + julianUnixEpoch
	ofDay := uint64(t.UnixNano() - (t.Unix()/86400)*86400*1e9)
	return deprecated.Int96{uint32(ofDay), uint32(ofDay >> 32), uint32(days)}
}

func TestReadForeignParquet(t *testing.T) {
	when := time.Date(2024, 2, 29, 13, 14, 15, 16_000_000, time.UTC)
	half := 0.5
	rows := []foreign{
		{I32: -7, U64: math.MaxUint32 + 1, I8: 100, F32: 1.5, F64: &half, Flag: true, Str: "a", Raw: []byte("r1"), Enum: "E1",
			Ms: when, Us: when.UnixMicro(), Day: 19782, Cents: 1234, Whole: 42, Old: int96(when), Text: "2024-01-02"},
		{I32: 8, U64: 3, I8: -100, F32: -2, Flag: false, Str: "b", Raw: []byte("r2"), Enum: "E2",
			Ms: time.Unix(0, 0).UTC(), Us: 0, Day: 0, Cents: -5, Whole: -1, Old: int96(time.Unix(0, 0).UTC()), Text: "2023-12-31"},
	}
	data := writeForeign(t, rows)
	c := cols("text:timestamp")
	c["text"].Layout = "2006-01-02"
	tb, err := Read(bytes.NewReader(data), Parquet, c)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		typ  table.Type
		vals string
	}{
		"i32":   {table.Int, "-7,8"},
		"u64":   {table.Int, "4294967296,3"},
		"i8":    {table.Int, "100,-100"},
		"f32":   {table.Float, "1.5,-2"},
		"f64":   {table.Float, "0.5,<null>"},
		"flag":  {table.Bool, "true,false"},
		"str":   {table.Category, "a,b"},
		"raw":   {table.Category, "r1,r2"},
		"enum":  {table.Category, "E1,E2"},
		"ms":    {table.Timestamp, "2024-02-29T13:14:15.016Z,1970-01-01T00:00:00Z"},
		"us":    {table.Timestamp, "2024-02-29T13:14:15.016Z,1970-01-01T00:00:00Z"},
		"day":   {table.Timestamp, "2024-02-29T00:00:00Z,1970-01-01T00:00:00Z"},
		"cents": {table.Float, "12.34,-0.05"},
		"whole": {table.Int, "42,-1"},
		"old":   {table.Timestamp, "2024-02-29T13:14:15.016Z,1970-01-01T00:00:00Z"},
		"text":  {table.Timestamp, "2024-01-02T00:00:00Z,2023-12-31T00:00:00Z"},
	}
	if len(tb.Columns()) != len(want) {
		t.Errorf("columns %v", tb.Names())
	}
	for name, w := range want {
		col := tb.Column(name)
		if col == nil {
			t.Errorf("no column %s", name)
			continue
		}
		if col.Type != w.typ {
			t.Errorf("column %s: type %s, want %s", name, col.Type, w.typ)
		}
		if got := strings.Join(texts(col), ","); got != w.vals {
			t.Errorf("column %s: %s, want %s", name, got, w.vals)
		}
	}

	// Declared types the values cannot take are errors naming the column.
	bad := []struct{ decl, want string }{
		{"f32:int", "declared int"},
		{"str:float", "declared float"},
		{"i32:bool", "declared bool"},
		{"flag:string", "declared string"},
		{"i32:timestamp", "declared timestamp"},
	}
	for _, b := range bad {
		name, _, _ := strings.Cut(b.decl, ":")
		_, err := Read(bytes.NewReader(data), Parquet, cols(b.decl))
		wantErr(t, err, `column "`+name+`"`, b.want, "the file holds")
	}
	// A text column that is not in the declared layout.
	_, err = Read(bytes.NewReader(data), Parquet, cols("str:timestamp"))
	wantErr(t, err, `column "str"`, `"a" is not a timestamp`)
}

func TestReadParquetUnsupported(t *testing.T) {
	type nested struct {
		ID   int64 `parquet:"id"`
		Tags []string
	}
	data := writeForeign(t, []nested{{ID: 1, Tags: []string{"a"}}})
	_, err := Read(bytes.NewReader(data), Parquet, nil)
	wantErr(t, err, `column "Tags"`, "only flat columns")

	type big struct {
		U uint64 `parquet:"u"`
	}
	data = writeForeign(t, []big{{U: math.MaxUint64}})
	_, err = Read(bytes.NewReader(data), Parquet, nil)
	wantErr(t, err, `column "u"`, "row 1", "over the largest int")

	type uuid struct {
		ID [16]byte `parquet:"id,uuid"`
	}
	data = writeForeign(t, []uuid{{}})
	_, err = Read(bytes.NewReader(data), Parquet, nil)
	wantErr(t, err, `column "id"`, "not supported")
}

// randomTable builds a table of random columns, types, nulls and values.
func randomTable(r *rand.Rand) *table.Table {
	n := r.IntN(50)
	ncols := 1 + r.IntN(6)
	types := []table.Type{table.Int, table.Float, table.Bool, table.String, table.Category, table.Timestamp}
	var cols []*table.Column
	for j := range ncols {
		name := string(rune('a'+j)) + strings.Repeat("x", r.IntN(3))
		typ := types[r.IntN(len(types))]
		var valid table.Bitmap
		if r.IntN(2) == 0 {
			valid = table.NewBitmap(n, true)
			for i := range n {
				if r.IntN(4) == 0 {
					valid.Clear(i)
				}
			}
		}
		var c *table.Column
		switch typ {
		case table.Int:
			v := make([]int64, n)
			for i := range v {
				v[i] = r.Int64() - r.Int64()
			}
			c = table.NewInt(name, v, valid)
		case table.Timestamp:
			v := make([]int64, n)
			for i := range v {
				v[i] = r.Int64() - r.Int64()
			}
			c = table.NewTimestamp(name, v, valid)
		case table.Float:
			v := make([]float64, n)
			for i := range v {
				switch r.IntN(6) {
				case 0:
					v[i] = math.NaN()
				case 1:
					v[i] = math.Inf(1 - 2*r.IntN(2))
				default:
					v[i] = r.NormFloat64() * 1e6
				}
			}
			c = table.NewFloat(name, v)
		case table.Bool:
			v := make([]bool, n)
			for i := range v {
				v[i] = r.IntN(2) == 0
			}
			c = table.NewBool(name, v, valid)
		default:
			v := make([]string, n)
			for i := range v {
				v[i] = string([]rune{rune('a' + r.IntN(4)), rune(0x20 + r.IntN(0x3000))})
			}
			c = table.NewText(name, typ, v, valid)
		}
		cols = append(cols, c)
	}
	tb, err := table.New(cols...)
	if err != nil {
		return nil // a repeated name; the caller skips it
	}
	if r.IntN(3) == 0 && n > 0 {
		idx := make([]int, r.IntN(n+1))
		for i := range idx {
			idx[i] = r.IntN(n)
		}
		tb = tb.Subset(idx)
	}
	return tb
}

func TestParquetRoundTripProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	tested := 0
	for range 300 {
		tb := randomTable(r)
		if tb == nil {
			continue
		}
		tested++
		back, data := roundTrip(t, tb)
		if d := equalTables(tb, back); d != "" {
			t.Fatalf("table %d: %s", tested, d)
		}
		var again bytes.Buffer
		if err := WriteParquet(&again, back); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(data, again.Bytes()) {
			t.Fatalf("table %d: rewriting changed the bytes", tested)
		}
	}
	if tested < 100 {
		t.Fatalf("only %d tables tested", tested)
	}
}

func TestReadParquetDamaged(t *testing.T) {
	type row struct {
		A int64 `parquet:"a"`
	}
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[row](&buf, parquet.Compression(&parquet.Lz4Raw))
	if _, err := w.Write([]row{{1}, {2}}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := Read(bytes.NewReader(buf.Bytes()), Parquet, nil)
	wantErr(t, err, "compression LZ4_RAW is not supported", "SNAPPY")

	_, good := roundTrip(t, sample(t))
	cases := []struct {
		name   string
		damage func([]byte) []byte
		want   string
	}{
		{"short", func(b []byte) []byte { return b[:10] }, "too small"},
		{"footer length", func(b []byte) []byte {
			b[len(b)-8], b[len(b)-7], b[len(b)-6], b[len(b)-5] = 0xff, 0xff, 0xff, 0x7f
			return b
		}, "footer of 2147483647 bytes"},
		{"truncated", func(b []byte) []byte { return append(b[:4:4], b[len(b)/2:]...) }, "read parquet"},
		{"no magic", func(b []byte) []byte { b[0] = 'X'; return b }, "magic"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Read(bytes.NewReader(c.damage(bytes.Clone(good))), Parquet, nil)
			wantErr(t, err, "read parquet", c.want)
		})
	}
}
