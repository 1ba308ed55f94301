package features

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/slipway-ml/slipway/runners/train/table"
)

// Rules that chose the positive class (labelInfo.Rule), besides the names
// "yes", "true" and "1".
const (
	ruleSpec     = "spec"
	ruleMinority = "minority"
)

// labelInfo is the fitted label encoding.
type labelInfo struct {
	Column   string `json:"column"`
	Task     string `json:"task"`
	Positive string `json:"positive,omitempty"`
	Negative string `json:"negative,omitempty"`
	Rule     string `json:"rule,omitempty"`
}

// classCounts counts the non-missing values of c by their text.
func classCounts(c *table.Column) map[string]int {
	out := map[string]int{}
	if c.Type.Text() {
		n := make([]int, len(c.Dict))
		for _, code := range c.Codes {
			if code >= 0 {
				n[code]++
			}
		}
		for i, k := range n {
			if k > 0 {
				out[c.Dict[i]] += k
			}
		}
		return out
	}
	if c.Type == table.Bool {
		for i := range c.Bools {
			if s, ok := c.Text(i); ok {
				out[s]++
			}
		}
		return out
	}
	num := map[float64]int{}
	for i := 0; i < c.Len(); i++ {
		if v := c.Number(i); !math.IsNaN(v) {
			num[v]++
		}
		if len(num) > 2 {
			break // enough to know the label is not binary
		}
	}
	for v, k := range num {
		out[table.FormatNumber(v)] += k
	}
	return out
}

func fitLabel(train *table.Table, spec FeatureSpec) (labelInfo, error) {
	c := train.Column(spec.Label)
	if c == nil {
		return labelInfo{}, fmt.Errorf("no label column %q", spec.Label)
	}
	l := labelInfo{Column: spec.Label, Task: spec.Task}
	if c.Type == table.Timestamp {
		return l, fmt.Errorf("label %q is a timestamp column", spec.Label)
	}
	var counts map[string]int
	if l.Task == "" {
		switch {
		case c.Type.Text() || c.Type == table.Bool || spec.Positive != "":
			l.Task = Binary
		default:
			counts = classCounts(c)
			_, zero := counts["0"]
			_, one := counts["1"]
			if len(counts) == 2 && zero && one {
				l.Task = Binary
			} else {
				l.Task = Regression
			}
		}
	}
	switch l.Task {
	case Regression:
		if !c.Numeric() {
			return l, fmt.Errorf("label %q: regression needs a numeric label, not %s", spec.Label, c.Type)
		}
		if spec.Positive != "" {
			return l, fmt.Errorf("label %q: a positive class is set for a regression label", spec.Label)
		}
		for i := 0; i < c.Len(); i++ {
			if v := c.Number(i); math.IsNaN(v) || math.IsInf(v, 0) {
				return l, fmt.Errorf("label %q: training row %d is missing or infinite", spec.Label, i+1)
			}
		}
		return l, nil
	case Binary:
	default:
		return l, fmt.Errorf("task %q is neither %q nor %q", l.Task, Binary, Regression)
	}
	if counts == nil {
		counts = classCounts(c)
	}
	classes := make([]string, 0, len(counts))
	for k := range counts {
		classes = append(classes, k)
	}
	sort.Strings(classes)
	if len(classes) != 2 {
		shown := classes
		if len(shown) > 5 {
			shown = append(shown[:5:5], "...")
		}
		return l, fmt.Errorf("label %q has %d classes in the training rows (%s); binary classification needs 2", spec.Label, len(classes), quoteList(shown))
	}
	pick := func(pos, rule string) {
		l.Positive, l.Rule = pos, rule
		if classes[0] == pos {
			l.Negative = classes[1]
		} else {
			l.Negative = classes[0]
		}
	}
	if spec.Positive != "" {
		if spec.Positive != classes[0] && spec.Positive != classes[1] {
			return l, fmt.Errorf("label %q: positive class %q is neither of the training rows' classes %q and %q", spec.Label, spec.Positive, classes[0], classes[1])
		}
		pick(spec.Positive, ruleSpec)
		return l, nil
	}
	for _, name := range []string{"yes", "true", "1"} {
		for _, c := range classes {
			if strings.EqualFold(strings.TrimSpace(c), name) {
				pick(c, name)
				return l, nil
			}
		}
	}
	if counts[classes[0]] < counts[classes[1]] {
		pick(classes[0], ruleMinority)
	} else {
		pick(classes[1], ruleMinority)
	}
	return l, nil
}

func (l *labelInfo) apply(t *table.Table) ([]float64, error) {
	c := t.Column(l.Column)
	if c == nil {
		return nil, fmt.Errorf("no column %q", l.Column)
	}
	n := c.Len()
	y := make([]float64, n)
	if l.Task == Regression {
		if !c.Numeric() {
			return nil, fmt.Errorf("regression needs a numeric label, not %s", c.Type)
		}
		for i := range y {
			v := c.Number(i)
			if math.IsNaN(v) {
				return nil, fmt.Errorf("row %d: missing label", i+1)
			}
			y[i] = v
		}
		return y, nil
	}
	classOf := func(s string) float64 {
		switch s {
		case l.Positive:
			return 1
		case l.Negative:
			return 0
		}
		return -1
	}
	bad := func(i int, s string) error {
		return fmt.Errorf("row %d: label %q is neither %q nor %q", i+1, s, l.Positive, l.Negative)
	}
	if c.Type.Text() {
		m := make([]float64, len(c.Dict))
		for k, s := range c.Dict {
			m[k] = classOf(s)
		}
		for i, code := range c.Codes {
			if code < 0 {
				return nil, fmt.Errorf("row %d: missing label", i+1)
			}
			if m[code] < 0 {
				return nil, bad(i, c.Dict[code])
			}
			y[i] = m[code]
		}
		return y, nil
	}
	for i := range y {
		s, ok := c.Text(i)
		if !ok {
			return nil, fmt.Errorf("row %d: missing label", i+1)
		}
		v := classOf(s)
		if v < 0 {
			return nil, bad(i, s)
		}
		y[i] = v
	}
	return y, nil
}
