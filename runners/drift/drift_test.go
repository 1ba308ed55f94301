package drift

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

func nums(v ...float64) Column { return Column{Name: "f", Numbers: v} }
func cats(v ...string) Column  { return Column{Name: "f", Categories: v} }
func genNum(seed uint64, n int, shift float64) Column {
	return refSpec{Seed: seed, N: n, Scale: 1, Shift: shift}.column("num")
}
func genCat(seed uint64, n, k int, power float64) Column {
	return refSpec{Seed: seed, N: n, K: k, Power: power}.column("cat")
}

func TestHandComputed(t *testing.T) {
	ab := cats("a", "a", "b", "b")
	aab := cats("a", "a", "a", "b")
	tests := []struct {
		name     string
		ref, cur Column
		method   string
		want     float64
	}{
		// (0.5−0.75)ln(0.5/0.75) + (0.5−0.25)ln(0.5/0.25) = 0.25 ln 3
		{"psi", ab, aab, MethodPSI, 0.25 * math.Log(3)},
		// empty bin filled with 0.0001
		{"psi fills zeros", cats("a", "a"), cats("a", "b"), MethodPSI, 0.5*math.Log(2) + (1e-4-0.5)*math.Log(1e-4/0.5)},
		// disjoint supports: sqrt(ln 2)
		{"jsd disjoint", cats("a"), cats("b"), MethodJSD, math.Sqrt(math.Ln2)},
		{"jsd alias", cats("a"), cats("b"), "jensenshannon", math.Sqrt(math.Ln2)},
		// expected 2,2, observed 3,1: stat 1, df 1
		{"chisquare", ab, aab, MethodChiSquare, 0.31731050786291115},
		// current value missing from the reference: infinite statistic
		{"chisquare new category", ab, cats("a", "c"), MethodChiSquare, 0},
		// p1 = 0.5, p2 = 0.25, pooled 0.375
		{"z", ab, aab, MethodZ, 0.4652088184521417},
		{"z single same category", cats("a", "a"), cats("a"), MethodZ, 1},
		// disjoint samples of 3: D = 1, p = 2/C(6,3)
		{"ks disjoint", nums(1, 2, 3), nums(4, 5, 6), MethodKS, 0.1},
		{"ks identical", nums(1, 2, 3), nums(3, 2, 1), MethodKS, 1},
		// W = 1, std(ref) = 0.5
		{"wasserstein", nums(0, 1), nums(1, 2), MethodWasserstein, 2},
		// std 0 is replaced by 0.001
		{"wasserstein constant", nums(1, 1), nums(1, 2), MethodWasserstein, 0.5 / 0.001},
		{"missing ignored", nums(0, math.NaN(), 1, math.Inf(1)), nums(1, 2, math.Inf(-1)), MethodWasserstein, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Feature(tt.ref, tt.cur, tt.method, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !close(r.Statistic, tt.want, 1e-12) {
				t.Errorf("statistic = %.17g, want %.17g", r.Statistic, tt.want)
			}
		})
	}
}

func TestGammaQ(t *testing.T) {
	for _, x := range []float64{0.01, 0.5, 1, 3.7, 12, 60} {
		if got, want := gammaQ(1, x), math.Exp(-x); !close(got, want, 1e-13) {
			t.Errorf("Q(1,%v) = %v, want %v", x, got, want)
		}
		if got, want := gammaQ(0.5, x), math.Erfc(math.Sqrt(x)); !close(got, want, 1e-12) {
			t.Errorf("Q(0.5,%v) = %v, want %v", x, got, want)
		}
		if got, want := gammaQ(3, x), math.Exp(-x)*(1+x+x*x/2); !close(got, want, 1e-12) {
			t.Errorf("Q(3,%v) = %v, want %v", x, got, want)
		}
	}
}

func TestCountBinsLastEdgeInclusive(t *testing.T) {
	got := countBins([]float64{0, 1, 2}, []float64{0, 0.5, 1, 1.5, 2})
	if want := []float64{2, 3}; !reflect.DeepEqual(got, want) {
		t.Errorf("countBins = %v, want %v", got, want)
	}
}

func TestDefaultMethod(t *testing.T) {
	tests := []struct {
		name      string
		ref, cur  Column
		want      string
		threshold float64
	}{
		{"small numeric", genNum(1, 100, 0), genNum(2, 50, 0), MethodKS, 0.05},
		{"small numeric few values", nums(1, 2, 3, 1), nums(2, 3), MethodChiSquare, 0.05},
		{"small numeric binary", nums(0, 1, 1), nums(0), MethodZ, 0.05},
		{"small categorical", cats("a", "b"), cats("c"), MethodChiSquare, 0.05},
		{"small binary", cats("a", "b"), cats("b"), MethodZ, 0.05},
		{"large numeric", genNum(3, 1001, 0), genNum(4, 10, 0), MethodWasserstein, 0.1},
		{"large numeric few values", refSpec{Seed: 5, N: 1001, Scale: 1, Grid: 1}.column("num"), nums(0), MethodJSD, 0.1},
		{"large categorical", genCat(6, 1001, 2, 1), cats("c0"), MethodJSD, 0.1},
		{"1000 is small", genNum(7, 1000, 0), genNum(8, 10, 0), MethodKS, 0.05},
		{"missing values not counted", nums(append(genNum(9, 1000, 0).Numbers, math.NaN())...), genNum(8, 10, 0), MethodKS, 0.05},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := DefaultMethod(tt.ref, tt.cur)
			if err != nil {
				t.Fatal(err)
			}
			if m != tt.want {
				t.Errorf("DefaultMethod = %s, want %s", m, tt.want)
			}
			r, err := Feature(tt.ref, tt.cur, "", 0)
			if err != nil {
				t.Fatal(err)
			}
			if r.Method != tt.want || r.Threshold != tt.threshold {
				t.Errorf("Feature chose %s at %v, want %s at %v", r.Method, r.Threshold, tt.want, tt.threshold)
			}
		})
	}
}

func TestDriftRuleAtThreshold(t *testing.T) {
	tests := []struct {
		method   string
		ref, cur Column
		drifted  bool // when the threshold equals the statistic
	}{
		{MethodKS, nums(1, 2, 3), nums(4, 5, 6), true},
		{MethodChiSquare, cats("a", "a", "b", "b"), cats("a", "a", "a", "b"), false},
		{MethodZ, cats("a", "a", "b", "b"), cats("a", "a", "a", "b"), false},
		{MethodPSI, cats("a", "a", "b", "b"), cats("a", "a", "a", "b"), true},
		{MethodJSD, cats("a", "a", "b", "b"), cats("a", "a", "a", "b"), true},
		{MethodWasserstein, nums(0, 1), nums(1, 2), true},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			first, err := Feature(tt.ref, tt.cur, tt.method, 0)
			if err != nil {
				t.Fatal(err)
			}
			r, err := Feature(tt.ref, tt.cur, tt.method, first.Statistic)
			if err != nil {
				t.Fatal(err)
			}
			if r.Drifted != tt.drifted {
				t.Errorf("at threshold %v = statistic: drifted %v, want %v", r.Threshold, r.Drifted, tt.drifted)
			}
		})
	}
}

var allMethods = []string{MethodPSI, MethodKS, MethodWasserstein, MethodJSD, MethodChiSquare, MethodZ}

func TestIdenticalAndShifted(t *testing.T) {
	ref := genNum(11, 2000, 0)
	catRef := genCat(12, 2000, 2, 1)
	for _, m := range allMethods {
		t.Run(m, func(t *testing.T) {
			same, shifted := ref, genNum(13, 800, 0.6)
			if m == MethodChiSquare || m == MethodZ {
				same, shifted = catRef, genCat(14, 800, 2, 3)
				ref = catRef
			}
			r, err := Feature(ref, same, m, 0)
			if err != nil {
				t.Fatal(err)
			}
			if r.Drifted {
				t.Errorf("identical samples drifted: %s = %v", m, r.Statistic)
			}
			r, err = Feature(ref, shifted, m, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !r.Drifted {
				t.Errorf("shifted samples did not drift: %s = %v", m, r.Statistic)
			}
			ref = genNum(11, 2000, 0)
		})
	}
}

func TestHistogram(t *testing.T) {
	r, err := Feature(genNum(21, 600, 0), genNum(22, 400, 0.2), MethodKS, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Sturges over 1000 values: ceil(log2(1000)+1) = 11 bins.
	if len(r.Edges) != 12 || len(r.Reference) != 11 || len(r.Current) != 11 || r.Categories != nil {
		t.Fatalf("histogram: %d edges, %d/%d shares, %d categories; want 12 edges, 11 shares", len(r.Edges), len(r.Reference), len(r.Current), len(r.Categories))
	}
	for _, s := range [][]float64{r.Reference, r.Current} {
		sum := 0.0
		for _, v := range s {
			sum += v
		}
		if !close(sum, 1, 1e-12) {
			t.Errorf("shares sum to %v, want 1", sum)
		}
	}
	c, err := Feature(cats("b", "a", "", "b"), cats("c", "a"), MethodPSI, 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a", "b", "c"}; !reflect.DeepEqual(c.Categories, want) {
		t.Errorf("categories = %v, want %v", c.Categories, want)
	}
	if want := []float64{1.0 / 3, 2.0 / 3, 0}; !reflect.DeepEqual(c.Reference, want) {
		t.Errorf("reference shares = %v, want %v", c.Reference, want)
	}
}

func TestErrors(t *testing.T) {
	ok := nums(1, 2, 3)
	tests := []struct {
		name      string
		ref, cur  Column
		method    string
		threshold float64
		want      string
	}{
		{"empty reference", nums(), ok, "", 0, "reference column \"f\": no non-missing values (the column is empty)"},
		{"all NaN current", ok, nums(math.NaN(), math.Inf(1)), "", 0, "all 2 values are NaN or infinite"},
		{"all empty categories", cats("", ""), cats("a"), "", 0, "all 2 values are empty"},
		{"mixed kinds", ok, cats("a"), "", 0, "reference is numeric but current is categorical"},
		{"both kinds", Column{Name: "f", Numbers: []float64{1}, Categories: []string{"a"}}, ok, "", 0, "both numbers and categories"},
		{"unknown method", ok, ok, "kl", 0, `unknown drift method "kl"`},
		{"ks on categories", cats("a"), cats("b"), MethodKS, 0, "needs numeric values"},
		{"wasserstein on categories", cats("a"), cats("b"), MethodWasserstein, 0, "needs numeric values"},
		{"negative threshold", ok, ok, MethodPSI, -1, "expected a finite number ≥ 0"},
		{"NaN threshold", ok, ok, MethodPSI, math.NaN(), "expected a finite number ≥ 0"},
		{"p-value threshold 1", ok, ok, MethodKS, 1, "expected a p-value level in (0, 1)"},
		{"overflowing range", nums(append(genNum(1, 30, 0).Numbers, -math.MaxFloat64)...), nums(math.MaxFloat64), MethodPSI, 0, "wider than a float64 can hold"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Feature(tt.ref, tt.cur, tt.method, tt.threshold)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
	_, err := Feature(nums(), ok, "", 0)
	if !errors.Is(err, ErrNoData) {
		t.Errorf("error %v is not ErrNoData", err)
	}
}

func TestDeterministic(t *testing.T) {
	ref, cur := genCat(31, 500, 6, 1), genCat(32, 400, 6, 1.4)
	rev := Column{Name: ref.Name}
	for i := len(ref.Categories) - 1; i >= 0; i-- {
		rev.Categories = append(rev.Categories, ref.Categories[i])
	}
	for _, m := range []string{MethodPSI, MethodJSD, MethodChiSquare, MethodZ} {
		a, err := Feature(ref, cur, m, 0)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Feature(rev, cur, m, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: result depends on input order:\n%+v\n%+v", m, a, b)
		}
	}
}

func TestDataset(t *testing.T) {
	d, n := Result{Drifted: true}, Result{}
	tests := []struct {
		name    string
		results []Result
		share   float64
		drifted bool
		frac    float64
	}{
		{"half at default", []Result{d, n}, 0, true, 0.5},
		{"below default", []Result{d, n, n}, 0, false, 1.0 / 3},
		{"custom share", []Result{d, n, n}, 0.3, true, 1.0 / 3},
		{"share above 1 means default", []Result{d, n}, 2, true, 0.5},
		{"none drifted", []Result{n, n}, 0.5, false, 0},
		{"no results", nil, 0.5, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			drifted, frac := Dataset(tt.results, tt.share)
			if drifted != tt.drifted || frac != tt.frac {
				t.Errorf("Dataset = %v, %v; want %v, %v", drifted, frac, tt.drifted, tt.frac)
			}
		})
	}
}
