package drift

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"testing"
)

// The LCG of testdata/scipy_ref.py (Knuth's MMIX constants), producing the
// top 53 bits of its state as a float64 in [0, 1).
type lcg struct{ state uint64 }

func (g *lcg) u() float64 {
	g.state = g.state*6364136223846793005 + 1442695040888963407
	return float64(g.state>>11) * 0x1p-53
}

type refSpec struct {
	Seed            uint64    `json:"seed"`
	N               int       `json:"n"`
	Scale           float64   `json:"scale"`
	Shift           float64   `json:"shift"`
	Grid            float64   `json:"grid"`
	K               int       `json:"k"`
	Power           float64   `json:"power"`
	Values          []float64 `json:"values"`
	Categories      []string  `json:"categories"`
	Sum             float64   `json:"sum"`
	First           []float64 `json:"first"`
	FirstCategories []string  `json:"first_categories"`
}

// column is gen_num or gen_cat of the Python script, or the literal values.
func (s refSpec) column(kind string) Column {
	switch {
	case s.Values != nil:
		return Column{Name: "x", Numbers: s.Values}
	case s.Categories != nil:
		return Column{Name: "x", Categories: s.Categories}
	}
	g := &lcg{s.Seed}
	if kind == "num" {
		out := make([]float64, s.N)
		for i := range out {
			x := s.Shift + s.Scale*(g.u()+g.u()+g.u())
			if s.Grid > 0 {
				x = math.Floor(x*s.Grid) / s.Grid
			}
			out[i] = x
		}
		return Column{Name: "x", Numbers: out}
	}
	out := make([]string, s.N)
	for i := range out {
		out[i] = fmt.Sprintf("c%d", int(math.Pow(g.u(), s.Power)*float64(s.K)))
	}
	return Column{Name: "x", Categories: out}
}

type refCase struct {
	Name      string  `json:"name"`
	Method    string  `json:"method"`
	Kind      string  `json:"kind"`
	Ref       refSpec `json:"ref"`
	Cur       refSpec `json:"cur"`
	Statistic float64 `json:"statistic"`
}

func checkGenerated(t *testing.T, s refSpec, c Column) {
	t.Helper()
	for i, want := range s.First {
		if c.Numbers[i] != want {
			t.Fatalf("generated value %d = %v, scipy_ref.py made %v", i, c.Numbers[i], want)
		}
	}
	for i, want := range s.FirstCategories {
		if c.Categories[i] != want {
			t.Fatalf("generated category %d = %q, scipy_ref.py made %q", i, c.Categories[i], want)
		}
	}
	if s.First != nil {
		sum := 0.0
		for _, v := range c.Numbers {
			sum += v
		}
		if math.Abs(sum-s.Sum) > 1e-9*math.Abs(s.Sum) {
			t.Fatalf("generated sum = %v, scipy_ref.py made %v", sum, s.Sum)
		}
	}
}

func TestScipyReference(t *testing.T) {
	data, err := os.ReadFile("testdata/scipy_ref.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Cases []refCase `json:"cases"`
	}
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.Cases) < 20 {
		t.Fatalf("scipy_ref.json has %d cases, expected at least 20", len(ref.Cases))
	}
	for _, c := range ref.Cases {
		t.Run(c.Name, func(t *testing.T) {
			rc, cc := c.Ref.column(c.Kind), c.Cur.column(c.Kind)
			checkGenerated(t, c.Ref, rc)
			checkGenerated(t, c.Cur, cc)
			res, err := Feature(rc, cc, c.Method, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !close(res.Statistic, c.Statistic, 1e-9) {
				t.Errorf("%s = %.17g, scipy %.17g", c.Method, res.Statistic, c.Statistic)
			}
		})
	}
}

// close compares with a relative tolerance, and an absolute one near zero.
func close(got, want, tol float64) bool {
	return math.Abs(got-want) <= tol*math.Max(math.Abs(want), 1e-12)
}
