package metrics

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func near(a, b, tol float64) bool {
	if a == b {
		return true
	}
	return math.Abs(a-b) <= tol*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

func TestROCAUCHand(t *testing.T) {
	tests := []struct {
		name string
		y, p []float64
		want float64
	}{
		// Positives 0.35, 0.8; negatives 0.1, 0.4. Pairs won: 0.35>0.1,
		// 0.8>0.1, 0.8>0.4; lost: 0.35<0.4. 3/4.
		{"sklearn doc", []float64{0, 0, 1, 1}, []float64{0.1, 0.4, 0.35, 0.8}, 0.75},
		// Every pair tied: each counts 1/2.
		{"all tied", []float64{0, 1, 0, 1}, []float64{0.5, 0.5, 0.5, 0.5}, 0.5},
		{"all tied unbalanced", []float64{0, 1, 1, 1, 1}, []float64{0.3, 0.3, 0.3, 0.3, 0.3}, 0.5},
		// Positives 0.6 0.9 0.2 0.7, negatives 0.2 0.6 0.2 0.1.
		// 0.6: 1+½+1+1 = 3.5; 0.9: 4; 0.2: ½+0+½+1 = 2; 0.7: 4.
		// 13.5/16 = 0.84375.
		{"mixed ties", []float64{0, 0, 1, 1, 0, 1, 1, 0}, []float64{0.2, 0.6, 0.6, 0.9, 0.2, 0.2, 0.7, 0.1}, 0.84375},
		{"perfect", []float64{0, 0, 1, 1}, []float64{0.1, 0.2, 0.8, 0.9}, 1},
		{"inverted", []float64{1, 1, 0, 0}, []float64{0.1, 0.2, 0.8, 0.9}, 0},
		// The positive (0.5) beats 0.3, 0.1, 0.0, ties 0.5, loses to 0.95:
		// (3 + ½)/5 = 0.7.
		{"one positive", []float64{0, 0, 0, 1, 0, 0}, []float64{0.3, 0.5, 0.1, 0.5, 0.95, 0}, 0.7},
		// Scores need not be probabilities: margins rank the same way.
		{"margins", []float64{0, 1, 0, 1}, []float64{-3, 2.5, 1, 40}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ROCAUC(tc.y, tc.p)
			if err != nil {
				t.Fatal(err)
			}
			if !near(got, tc.want, 1e-15) {
				t.Errorf("ROCAUC = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPRAUCHand(t *testing.T) {
	tests := []struct {
		name string
		y, p []float64
		want float64
	}{
		// Descending: 0.8(+) P=1 R=½; 0.4(−); 0.35(+) P=⅔ R=1; 0.1(−).
		// AP = ½·1 + ½·⅔ = 5/6.
		{"sklearn doc", []float64{0, 0, 1, 1}, []float64{0.1, 0.4, 0.35, 0.8}, 5.0 / 6},
		// One threshold: R 0→1 at P=½.
		{"all tied", []float64{0, 1, 0, 1}, []float64{0.5, 0.5, 0.5, 0.5}, 0.5},
		// Thresholds 0.9 (tp1 fp0), 0.7 (2,0), 0.6 (3,1), 0.2 (4,3), 0.1 (4,4);
		// each of the first four raises recall by ¼:
		// (1 + 1 + ¾ + 4/7)/4 = 93/112.
		{"mixed ties", []float64{0, 0, 1, 1, 0, 1, 1, 0}, []float64{0.2, 0.6, 0.6, 0.9, 0.2, 0.2, 0.7, 0.1}, 93.0 / 112},
		{"perfect", []float64{0, 0, 1, 1}, []float64{0.1, 0.2, 0.8, 0.9}, 1},
		// Descending 0.9(−) 0.8(−) 0.2(+) P=⅓ 0.1(+) P=½: (⅓+½)/2 = 5/12.
		{"inverted", []float64{1, 1, 0, 0}, []float64{0.1, 0.2, 0.8, 0.9}, 5.0 / 12},
		// Step-wise, not trapezoid: 0.9(+) P=1 R=½, 0.5(−), 0.4(+) P=⅔ R=1:
		// ½ + ⅓ = 5/6 (the trapezoid rule would give more).
		{"step not trapezoid", []float64{1, 0, 1}, []float64{0.9, 0.5, 0.4}, 5.0 / 6},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := PRAUC(tc.y, tc.p)
			if err != nil {
				t.Fatal(err)
			}
			if !near(got, tc.want, 1e-15) {
				t.Errorf("PRAUC = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestLogLossHand(t *testing.T) {
	eps := LogLossEpsilon
	tests := []struct {
		name string
		y, p []float64
		eps  float64
		want float64
	}{
		// −(ln 0.8 + ln 0.6)/2 = (0.2231435513 + 0.5108256238)/2 ≈ 0.3669845875.
		{"two rows", []float64{1, 0}, []float64{0.8, 0.4}, eps, -(math.Log(0.8) + math.Log(0.6)) / 2},
		// p = ½ everywhere: ln 2 ≈ 0.6931471806.
		{"half", []float64{0, 1, 1}, []float64{0.5, 0.5, 0.5}, eps, math.Ln2},
		// Perfect 0/1 scores are clipped to [ε, 1−ε]: −ln(1−ε) per row.
		{"perfect clipped", []float64{0, 1}, []float64{0, 1}, eps, -math.Log(1 - eps)},
		// A confident miss costs −ln ε = 52·ln 2 ≈ 36.04; mean with a perfect row.
		{"confident miss", []float64{1, 0}, []float64{0, 0}, eps, (-math.Log(eps) - math.Log(1-eps)) / 2},
		// scikit-learn < 1.2 clipping at 1e-15: −ln 1e-15 ≈ 34.54.
		{"legacy eps", []float64{1}, []float64{0}, 1e-15, -math.Log(1e-15)},
		// Single class is fine for log loss.
		{"single class", []float64{1, 1}, []float64{0.5, 0.25}, eps, -(math.Log(0.5) + math.Log(0.25)) / 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := LogLossClipped(tc.y, tc.p, tc.eps)
			if err != nil {
				t.Fatal(err)
			}
			if !near(got, tc.want, 1e-15) {
				t.Errorf("LogLoss = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestConfusionHand(t *testing.T) {
	y := []float64{1, 0, 1, 0, 1, 0, 0, 1}
	p := []float64{0.9, 0.8, 0.5, 0.1, 0.2, 0.4, 0.5, 0.7}
	tests := []struct {
		threshold          float64
		want               Confusion
		acc, prec, rec, f1 float64
	}{
		// >= 0.5: predicted positive 0.9(+) 0.8(−) 0.5(+) 0.5(−) 0.7(+).
		// TP 3, FP 2, TN 2 (0.1, 0.4), FN 1 (0.2).
		// acc 5/8, prec 3/5, rec 3/4, f1 6/(6+2+1) = 2/3.
		{0.5, Confusion{TP: 3, FP: 2, TN: 2, FN: 1}, 5.0 / 8, 3.0 / 5, 3.0 / 4, 2.0 / 3},
		// Nothing predicted positive: precision and F1 are 0 (zero_division=0).
		{0.95, Confusion{TP: 0, FP: 0, TN: 4, FN: 4}, 0.5, 0, 0, 0},
		// Everything positive.
		{0, Confusion{TP: 4, FP: 4}, 0.5, 0.5, 1, 2.0 / 3},
	}
	for _, tc := range tests {
		c, err := ConfusionAt(y, p, tc.threshold)
		if err != nil {
			t.Fatal(err)
		}
		if c != tc.want {
			t.Errorf("threshold %v: confusion %+v, want %+v", tc.threshold, c, tc.want)
		}
		check := func(name string, f func([]float64, []float64, float64) (float64, error), want float64) {
			got, err := f(y, p, tc.threshold)
			if err != nil {
				t.Fatal(err)
			}
			if !near(got, want, 1e-15) {
				t.Errorf("threshold %v: %s = %v, want %v", tc.threshold, name, got, want)
			}
		}
		check("accuracy", Accuracy, tc.acc)
		check("precision", Precision, tc.prec)
		check("recall", Recall, tc.rec)
		check("f1", F1, tc.f1)
	}
	// No positive label: recall and F1 are 0, not an error.
	c, err := ConfusionAt([]float64{0, 0}, []float64{0.1, 0.2}, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	if c.Recall() != 0 || c.F1() != 0 || c.Precision() != 0 || c.Accuracy() != 1 {
		t.Errorf("all-negative confusion %+v: recall %v f1 %v precision %v accuracy %v", c, c.Recall(), c.F1(), c.Precision(), c.Accuracy())
	}
}

func TestRegressionHand(t *testing.T) {
	tests := []struct {
		name            string
		y, pred         []float64
		rmse, mae, r2   float64
		wantR2Exactness bool
	}{
		// Errors ½ ½ 0 1: MAE 2/4, MSE (¼+¼+0+1)/4 = 0.375, RMSE √0.375.
		// mean y = 2.875, SS_tot = 0.015625+11.390625+0.765625+17.015625
		// = 29.1875, SS_res = 1.5, R² = 1 − 1.5/29.1875 ≈ 0.9486081.
		{"sklearn doc", []float64{3, -0.5, 2, 7}, []float64{2.5, 0, 2, 8}, math.Sqrt(0.375), 0.5, 1 - 1.5/29.1875, false},
		// Constant y: perfect → 1, imperfect → 0 (force_finite).
		{"constant perfect", []float64{2, 2, 2}, []float64{2, 2, 2}, 0, 0, 1, true},
		// Errors 1 0 1: MSE ⅔, MAE ⅔.
		{"constant imperfect", []float64{2, 2, 2}, []float64{1, 2, 3}, math.Sqrt(2.0 / 3), 2.0 / 3, 0, true},
		// Reversed: errors 3 1 1 3, SS_res 20, SS_tot 5, R² = −3.
		{"worse than mean", []float64{1, 2, 3, 4}, []float64{4, 3, 2, 1}, math.Sqrt(5), 2, -3, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Regression(tc.y, tc.pred)
			if err != nil {
				t.Fatal(err)
			}
			if !near(r.RMSE, tc.rmse, 1e-15) || !near(r.MAE, tc.mae, 1e-15) || !near(r.R2, tc.r2, 1e-15) {
				t.Errorf("got rmse %v mae %v r2 %v, want %v %v %v", r.RMSE, r.MAE, r.R2, tc.rmse, tc.mae, tc.r2)
			}
			if tc.wantR2Exactness && r.R2 != tc.r2 {
				t.Errorf("r2 = %v, want exactly %v", r.R2, tc.r2)
			}
			if r.Rows != len(tc.y) {
				t.Errorf("rows = %d", r.Rows)
			}
		})
	}
}

func TestFairnessHand(t *testing.T) {
	y := []float64{1, 0, 1, 0, 1, 1, 0, 0}
	p := []float64{0.9, 0.6, 0.4, 0.1, 0.8, 0.7, 0.2, 0.3}
	g := []string{"a", "a", "a", "a", "b", "b", "b", "b"}
	tests := []struct {
		threshold     float64
		dpd, eod, di  float64
		selA, selB    float64
		tprA, tprB    float64
		eodDefinedErr bool
	}{
		// t=0.5: a selects 0.9 0.6 (2/4), TPR ½ (0.9 yes, 0.4 no);
		// b selects 0.8 0.7 (2/4), TPR 1. DPD 0, EOD ½, DI 1.
		{threshold: 0.5, dpd: 0, eod: 0.5, di: 1, selA: 0.5, selB: 0.5, tprA: 0.5, tprB: 1},
		// t=0.35: a selects 0.9 0.6 0.4 (¾), TPR 1; b ½, TPR 1.
		// DPD ¼, EOD 0, DI ½/¾ = ⅔.
		{threshold: 0.35, dpd: 0.25, eod: 0, di: 2.0 / 3, selA: 0.75, selB: 0.5, tprA: 1, tprB: 1},
		// t=0.95: nobody selected: DPD 0, EOD 0, DI 0/0 defined as 1.
		{threshold: 0.95, dpd: 0, eod: 0, di: 1},
		// t=0.85: a selects 0.9 (¼), b none: DI 0, DPD ¼, TPR a ½, b 0.
		{threshold: 0.85, dpd: 0.25, eod: 0.5, di: 0, selA: 0.25, tprA: 0.5},
	}
	for _, tc := range tests {
		dpd, err := DemographicParityDifference(y, p, g, tc.threshold)
		if err != nil {
			t.Fatal(err)
		}
		eod, err := EqualOpportunityDifference(y, p, g, tc.threshold)
		if err != nil {
			t.Fatal(err)
		}
		di, err := DisparateImpact(y, p, g, tc.threshold)
		if err != nil {
			t.Fatal(err)
		}
		if !near(dpd, tc.dpd, 1e-15) || !near(eod, tc.eod, 1e-15) || !near(di, tc.di, 1e-15) {
			t.Errorf("threshold %v: dpd %v eod %v di %v, want %v %v %v", tc.threshold, dpd, eod, di, tc.dpd, tc.eod, tc.di)
		}
		r, err := Fairness(y, p, g, tc.threshold)
		if err != nil {
			t.Fatal(err)
		}
		if r.DemographicParityDifference != dpd || r.EqualOpportunityDifference != eod || r.DisparateImpact != di || !r.EqualOpportunityDefined {
			t.Errorf("threshold %v: report %+v disagrees with the functions", tc.threshold, r)
		}
		if len(r.Groups) != 2 || r.Groups[0].Group != "a" || r.Groups[1].Group != "b" {
			t.Fatalf("groups %+v", r.Groups)
		}
		if r.Groups[0].SelectionRate != tc.selA || r.Groups[1].SelectionRate != tc.selB || r.Groups[0].TPR != tc.tprA || r.Groups[1].TPR != tc.tprB {
			t.Errorf("threshold %v: groups %+v", tc.threshold, r.Groups)
		}
	}

	// A single group: no disparity.
	one := []string{"x", "x", "x", "x", "x", "x", "x", "x"}
	if d, err := DemographicParityDifference(y, p, one, 0.5); err != nil || d != 0 {
		t.Errorf("single group dpd %v %v", d, err)
	}
	if d, err := DisparateImpact(y, p, one, 0.5); err != nil || d != 1 {
		t.Errorf("single group di %v %v", d, err)
	}

	// A group without a positive label: EOD is an error, naming it;
	// Fairness reports it as undefined.
	g3 := []string{"a", "a", "a", "a", "b", "b", "c", "c"}
	if _, err := EqualOpportunityDifference(y, p, g3, 0.5); err == nil || !strings.Contains(err.Error(), `"c"`) {
		t.Errorf("EOD with a group without positives: err %v", err)
	}
	r, err := Fairness(y, p, g3, 0.5)
	if err != nil || r.EqualOpportunityDefined {
		t.Errorf("Fairness with a group without positives: %+v %v", r, err)
	}
	if _, err := DisparateImpact(y, p, g3[:7], 0.5); err == nil {
		t.Error("group length mismatch: no error")
	}
}

func TestErrors(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	binary := map[string]func(y, p []float64) (float64, error){
		"roc_auc":  ROCAUC,
		"pr_auc":   PRAUC,
		"log_loss": LogLoss,
		"accuracy": func(y, p []float64) (float64, error) { return Accuracy(y, p, 0.5) },
		"f1":       func(y, p []float64) (float64, error) { return F1(y, p, 0.5) },
		"dpd": func(y, p []float64) (float64, error) {
			return DemographicParityDifference(y, p, make([]string, len(y)), 0.5)
		},
	}
	cases := []struct {
		name string
		y, p []float64
		want string
		is   error
	}{
		{"empty", nil, nil, "empty", ErrEmpty},
		{"length", []float64{0, 1}, []float64{0.5}, "length mismatch", nil},
		{"nan score", []float64{0, 1}, []float64{nan, 0.5}, "score 0 is NaN", nil},
		{"inf score", []float64{0, 1}, []float64{0.5, inf}, "score 1 is +Inf", nil},
		{"label 2", []float64{0, 2}, []float64{0.5, 0.5}, "label 1 is 2", nil},
		{"label 0.5", []float64{0.5, 1}, []float64{0.5, 0.5}, "label 0 is 0.5", nil},
		{"label nan", []float64{nan, 1}, []float64{0.5, 0.5}, "label 0 is NaN", nil},
	}
	for name, f := range binary {
		for _, tc := range cases {
			_, err := f(tc.y, tc.p)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s/%s: err %v, want it to mention %q", name, tc.name, err, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("%s/%s: err %v is not %v", name, tc.name, err, tc.is)
			}
		}
	}
	for name, f := range map[string]func(y, p []float64) (float64, error){"roc_auc": ROCAUC, "pr_auc": PRAUC} {
		for _, y := range [][]float64{{0, 0, 0}, {1, 1, 1}} {
			if _, err := f(y, []float64{0.1, 0.2, 0.3}); !errors.Is(err, ErrSingleClass) {
				t.Errorf("%s single class %v: err %v", name, y, err)
			}
		}
	}
	if _, err := Binary([]float64{1, 1}, []float64{0.3, 0.4}); !errors.Is(err, ErrSingleClass) {
		t.Errorf("Binary single class: %v", err)
	}
	if _, err := LogLoss([]float64{0, 1}, []float64{-0.1, 0.5}); err == nil || !strings.Contains(err.Error(), "probability") {
		t.Errorf("log loss negative score: %v", err)
	}
	if _, err := LogLoss([]float64{0, 1}, []float64{0.1, 1.5}); err == nil {
		t.Error("log loss score > 1: no error")
	}
	if _, err := LogLossClipped([]float64{0, 1}, []float64{0.1, 0.5}, 0.5); err == nil {
		t.Error("log loss eps 0.5: no error")
	}
	if _, err := ConfusionAt([]float64{0, 1}, []float64{0.1, 0.5}, nan); err == nil {
		t.Error("NaN threshold: no error")
	}
	for name, f := range map[string]func(y, p []float64) (float64, error){"rmse": RMSE, "mae": MAE, "r2": R2} {
		for _, tc := range []struct {
			y, p []float64
			want string
		}{
			{nil, nil, "empty"},
			{[]float64{1, 2}, []float64{1}, "length mismatch"},
			{[]float64{1, nan}, []float64{1, 2}, "target 1 is NaN"},
			{[]float64{1, 2}, []float64{inf, 2}, "prediction 0 is +Inf"},
		} {
			if _, err := f(tc.y, tc.p); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), name+":") {
				t.Errorf("%s: err %v, want %q", name, err, tc.want)
			}
		}
	}
	if _, err := R2([]float64{1}, []float64{1}); err == nil {
		t.Error("r2 of one row: no error")
	}
}

// bruteAUC is the Mann–Whitney statistic with ties counted half, by
// comparing every positive with every negative.
func bruteAUC(y, p []float64) float64 {
	var s float64
	var np, nn int
	for i := range y {
		if y[i] != 1 {
			continue
		}
		np++
		for j := range y {
			if y[j] != 0 {
				continue
			}
			switch {
			case p[i] > p[j]:
				s++
			case p[i] == p[j]:
				s += 0.5
			}
		}
	}
	nn = len(y) - np
	return s / float64(np*nn)
}

// bruteAP evaluates Σ (R_k − R_{k−1})·P_k over every distinct threshold by
// counting the rows at or above it directly.
func bruteAP(y, p []float64) float64 {
	seen := map[float64]bool{}
	var th []float64
	for _, v := range p {
		if !seen[v] {
			seen[v] = true
			th = append(th, v)
		}
	}
	// Descending thresholds.
	for i := range th {
		for j := i + 1; j < len(th); j++ {
			if th[j] > th[i] {
				th[i], th[j] = th[j], th[i]
			}
		}
	}
	pos := 0.0
	for _, v := range y {
		pos += v
	}
	ap, prevR := 0.0, 0.0
	for _, t := range th {
		tp, sel := 0.0, 0.0
		for i := range p {
			if p[i] >= t {
				sel++
				tp += y[i]
			}
		}
		r := tp / pos
		ap += (r - prevR) * tp / sel
		prevR = r
	}
	return ap
}

func TestRankingProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := range 2000 {
		n := 2 + rng.IntN(60)
		levels := 1 + rng.IntN(8) // few levels: many ties
		y := make([]float64, n)
		p := make([]float64, n)
		for i := range n {
			y[i] = float64(rng.IntN(2))
			p[i] = float64(rng.IntN(levels)) / float64(levels)
		}
		y[0], y[1] = 0, 1
		rng.Shuffle(n, func(i, j int) { y[i], y[j] = y[j], y[i] })
		auc, err := ROCAUC(y, p)
		if err != nil {
			t.Fatal(err)
		}
		if want := bruteAUC(y, p); !near(auc, want, 1e-12) {
			t.Fatalf("iter %d: ROCAUC %v, brute force %v (y %v p %v)", iter, auc, want, y, p)
		}
		ap, err := PRAUC(y, p)
		if err != nil {
			t.Fatal(err)
		}
		if want := bruteAP(y, p); !near(ap, want, 1e-12) {
			t.Fatalf("iter %d: PRAUC %v, brute force %v (y %v p %v)", iter, ap, want, y, p)
		}
		// Reversing the ranking mirrors the AUC.
		neg := make([]float64, n)
		for i := range p {
			neg[i] = -p[i]
		}
		if back, _ := ROCAUC(y, neg); !near(auc+back, 1, 1e-12) {
			t.Fatalf("iter %d: AUC %v + reversed %v != 1", iter, auc, back)
		}
		// A strictly monotone transform leaves it unchanged.
		sq := make([]float64, n)
		for i := range p {
			sq[i] = math.Exp(3 * p[i])
		}
		if same, _ := ROCAUC(y, sq); same != auc {
			t.Fatalf("iter %d: AUC %v after a monotone transform, was %v", iter, same, auc)
		}
	}
}

func TestBinaryReport(t *testing.T) {
	y := []float64{0, 0, 1, 1}
	p := []float64{0.1, 0.4, 0.35, 0.8}
	r, err := Binary(y, p)
	if err != nil {
		t.Fatal(err)
	}
	// See the hand cases above; at 0.5 only 0.8 is predicted positive.
	if !near(r.PRAUC, 5.0/6, 1e-15) {
		t.Errorf("PRAUC = %v", r.PRAUC)
	}
	want := BinaryReport{
		Rows: 4, Positives: 2, ROCAUC: 0.75, PRAUC: r.PRAUC, LogLoss: r.LogLoss,
		Threshold: 0.5, Confusion: Confusion{TP: 1, TN: 2, FN: 1},
		Accuracy: 0.75, Precision: 1, Recall: 0.5, F1: 2.0 / 3,
	}
	if r != want {
		t.Errorf("Binary = %+v\nwant %+v", r, want)
	}
	m := r.Map()
	if len(m) != 7 || m["roc_auc"] != 0.75 || m["f1"] != 2.0/3 {
		t.Errorf("Map = %v", m)
	}
	if rm := (RegressionReport{RMSE: 1, MAE: 2, R2: 3}).Map(); len(rm) != 3 || rm["r2"] != 3 {
		t.Errorf("regression Map = %v", rm)
	}
}

func BenchmarkROCAUC(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	n := 200_000
	y := make([]float64, n)
	p := make([]float64, n)
	for i := range n {
		y[i] = float64(rng.IntN(2))
		p[i] = rng.Float64()
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := ROCAUC(y, p); err != nil {
			b.Fatal(err)
		}
	}
}
