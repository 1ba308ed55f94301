package dataset

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/slipway-ml/slipway/runners/train/table"
)

// reread writes tb as Parquet and reads it back, failing unless the two
// are equal.
func reread(t *testing.T, tb *table.Table) {
	t.Helper()
	if len(tb.Columns()) == 0 {
		return
	}
	var buf bytes.Buffer
	if err := WriteParquet(&buf, tb); err != nil {
		t.Fatalf("WriteParquet of a table that was read: %v", err)
	}
	back, err := Read(bytes.NewReader(buf.Bytes()), Parquet, nil)
	if err != nil {
		t.Fatalf("reading back: %v", err)
	}
	if d := equalTables(tb, back); d != "" {
		t.Fatalf("round trip: %s", d)
	}
}

func FuzzReadJSONL(f *testing.F) {
	for _, s := range []string{
		"{\"a\": 1, \"b\": \"x\", \"c\": true, \"d\": null}\n{\"a\": 2.5, \"e\": \"2024-01-01T00:00:00Z\"}\n",
		"{\"a\": 1}\n\n{\"a\": \"1\"}\n",
		"\ufeff{\"x\": -0, \"y\": 1e400}\r\n",
		"{\"a\": {\"b\": 1}}\n",
		"[1]\n",
		"{\"a\": 1} {}\n",
		"{\"a\": \"\\u00e9\\n\"}",
		"{}\n",
		"{\"t\": \"2261-12-31T00:00:00Z\"}\n{\"t\": \"1677-01-01T00:00:00Z\"}\n",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, declare bool) {
		c := cols("a:int?", "t:timestamp?", "x:float?")
		if !declare {
			c = nil
		}
		tb, err := Read(strings.NewReader(s), JSONL, c, MaxRows(1000), InferRows(3), MaxLineBytes(1<<16))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "read jsonl: ") {
				t.Fatalf("error without context: %v", err)
			}
			return
		}
		if tb.Rows() > strings.Count(s, "\n")+1 {
			t.Fatalf("%d rows from %d lines", tb.Rows(), strings.Count(s, "\n")+1)
		}
		for name, col := range c {
			if got := tb.Column(name); got == nil || string(got.Type) != col.Type {
				t.Fatalf("declared column %s missing or of another type", name)
			}
		}
		reread(t, tb)
	})
}

func FuzzReadParquet(f *testing.F) {
	seeds := []*table.Table{}
	tb, err := table.New(table.NewInt("a", []int64{1, 2, 3}, nil), table.NewText("b", table.Category, []string{"x", "y", "x"}, nil))
	if err != nil {
		f.Fatal(err)
	}
	seeds = append(seeds, tb)
	valid := table.NewBitmap(2, true)
	valid.Clear(1)
	tb, err = table.New(
		table.NewFloat("f", []float64{1.5, 0}),
		table.NewBool("b", []bool{true, false}, valid),
		table.NewTimestamp("t", []int64{time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano(), 0}, valid),
		table.NewText("s", table.String, []string{"long text", ""}, valid),
	)
	if err != nil {
		f.Fatal(err)
	}
	seeds = append(seeds, tb, tb.Subset([]int{1, 1, 0}))
	for _, tb := range seeds {
		var buf bytes.Buffer
		if err := WriteParquet(&buf, tb); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	f.Add([]byte("PAR1"))
	f.Add([]byte("PAR1\x00\x00\x00\x00PAR1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tb, err := Read(bytes.NewReader(data), Parquet, nil, MaxRows(10000), MaxBytes(1<<20))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "read parquet: ") {
				t.Fatalf("error without context: %v", err)
			}
			return
		}
		reread(t, tb)
	})
}

func FuzzRoundTrip(f *testing.F) {
	for i := range uint64(8) {
		f.Add(i, i*7919)
	}
	f.Fuzz(func(t *testing.T, a, b uint64) {
		tb := randomTable(rand.New(rand.NewPCG(a, b)))
		if tb == nil {
			return
		}
		reread(t, tb)
	})
}
