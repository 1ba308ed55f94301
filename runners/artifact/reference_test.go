package artifact

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/slipway-ml/slipway/runners/train/table"
)

func TestReference(t *testing.T) {
	ts := time.Date(2026, 3, 1, 12, 30, 0, 0, time.UTC).UnixNano()
	valid := table.NewBitmap(4, true)
	valid.Clear(2)
	tbl, err := table.New(
		table.NewFloat("x", []float64{1.5, math.NaN(), 3, 4e20}),
		table.NewText("g", table.Category, []string{"a", "b\"q", "", "<c>"}, valid),
		table.NewTimestamp("t", []int64{ts, ts, ts, ts}, table.NewBitmap(4, true)),
		table.NewInt("n", []int64{7, 8, 9, 10}, table.NewBitmap(4, true)),
		table.NewText("y", table.Category, []string{"no", "yes", "no", "yes"}, table.NewBitmap(4, true)),
	)
	if err != nil {
		t.Fatal(err)
	}
	s := &Schema{Inputs: []Field{{"x", TypeNumber}, {"g", TypeString}, {"t", TypeTimestamp}, {"n", TypeNumber}}}
	for _, tc := range []struct {
		name string
		rows []int
		max  int
		want string
	}{
		{"all", []int{0, 1, 2, 3}, 0, `{"x":1.5,"g":"a","t":"2026-03-01T12:30:00Z","n":7}
{"x":null,"g":"b\"q","t":"2026-03-01T12:30:00Z","n":8}
{"x":3,"g":null,"t":"2026-03-01T12:30:00Z","n":9}
{"x":4e+20,"g":"\u003cc\u003e","t":"2026-03-01T12:30:00Z","n":10}
`},
		{"subset", []int{3, 1}, 0, `{"x":4e+20,"g":"\u003cc\u003e","t":"2026-03-01T12:30:00Z","n":10}
{"x":null,"g":"b\"q","t":"2026-03-01T12:30:00Z","n":8}
`},
		{"evenly spaced", []int{0, 1, 2, 3}, 2, `{"x":1.5,"g":"a","t":"2026-03-01T12:30:00Z","n":7}
{"x":3,"g":null,"t":"2026-03-01T12:30:00Z","n":9}
`},
		{"none", nil, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Reference(tbl, s, tc.rows, tc.max)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		name string
		s    *Schema
		rows []int
		want string
	}{
		{"missing column", &Schema{Inputs: []Field{{"z", TypeNumber}}}, []int{0}, `no column "z"`},
		{"row out of range", s, []int{4}, "row 4 is outside"},
		{"negative row", s, []int{-1}, "row -1 is outside"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Reference(tbl, tc.s, tc.rows, 0)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
