package dataset

import (
	"bytes"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/slipway-ml/slipway/runners/train/table"
)

func benchTable(b *testing.B, n int) *table.Table {
	r := rand.New(rand.NewPCG(1, 1))
	ints := make([]int64, n)
	floats := make([]float64, n)
	cats := make([]string, n)
	for i := range n {
		ints[i] = r.Int64N(1000)
		floats[i] = r.NormFloat64()
		cats[i] = "c" + strconv.Itoa(r.IntN(20))
	}
	tb, err := table.New(table.NewInt("i", ints, nil), table.NewFloat("f", floats), table.NewText("c", table.Category, cats, nil))
	if err != nil {
		b.Fatal(err)
	}
	return tb
}

func BenchmarkWriteParquet(b *testing.B) {
	tb := benchTable(b, 100_000)
	for b.Loop() {
		if err := WriteParquet(&bytes.Buffer{}, tb); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadParquet(b *testing.B) {
	var buf bytes.Buffer
	if err := WriteParquet(&buf, benchTable(b, 100_000)); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Read(bytes.NewReader(buf.Bytes()), Parquet, nil); err != nil {
			b.Fatal(err)
		}
	}
}
