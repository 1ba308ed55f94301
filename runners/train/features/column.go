package features

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/slipway-ml/slipway/runners/train/table"
)

// kind is what flows between the steps of one column.
type kind int

const (
	kNum   kind = iota // num: float64 per row, NaN missing
	kText              // codes into dict, -1 missing
	kCoded             // codes in [0,k), -1 missing
	kTime              // Unix nanoseconds with validity
	kOut               // final columns
)

// Inputs of a column pipe (columnPipe.Input).
const (
	inNumber = "number"
	inText   = "text"
	inTime   = "time"
)

// otherName is the name of the shared column or code of rare categories.
const otherName = "<other>"

// stream is one column's values between steps. Slices taken from the table
// are shared; steps copy before they write.
type stream struct {
	kind  kind
	n     int
	num   []float64
	codes []int32
	dict  []string
	k     int
	times []int64
	valid table.Bitmap
	outs  [][]float64
}

// columnPipe is the fitted pipeline of one input column.
type columnPipe struct {
	Column     string   `json:"column"`
	Input      string   `json:"input"`
	Steps      []*step  `json:"steps"`
	Names      []string `json:"names"`
	Categories []int    `json:"categories"`
}

// step is one fitted op. Which fields are set depends on Op.
type step struct {
	Op         string    `json:"op"`
	Strategy   string    `json:"strategy,omitempty"`
	Fill       float64   `json:"fill,omitempty"`
	FillText   string    `json:"fillText,omitempty"`
	Mean       float64   `json:"mean,omitempty"`
	Scale      float64   `json:"scale,omitempty"`
	Min        float64   `json:"min,omitempty"`
	Range      float64   `json:"range,omitempty"`
	Lo         *float64  `json:"lo,omitempty"`
	Hi         *float64  `json:"hi,omitempty"`
	Boundaries []float64 `json:"boundaries,omitempty"`
	Buckets    int       `json:"buckets,omitempty"`
	Vocabulary []string  `json:"vocabulary,omitempty"`
	Other      bool      `json:"other,omitempty"`
	Rest       []string  `json:"rest,omitempty"`
	Unknown    string    `json:"unknown,omitempty"`
	Parts      []string  `json:"parts,omitempty"`
	K          int       `json:"k,omitempty"`

	index map[string]int32 // Vocabulary (and Rest, as -2) by name
}

// opCategorical is the implicit native encoding of a categorical chain.
const opCategorical = "categorical"

// prepare builds the lookup tables of a fitted or decoded step.
func (s *step) prepare() {
	if s.Op != Onehot && s.Op != opCategorical {
		return
	}
	s.index = make(map[string]int32, len(s.Vocabulary)+len(s.Rest))
	for i, v := range s.Vocabulary {
		s.index[v] = int32(i)
	}
	for _, v := range s.Rest {
		if _, ok := s.index[v]; !ok {
			s.index[v] = -2
		}
	}
}

func fitColumn(c *table.Column, ops []Transform, spec FeatureSpec) (*columnPipe, error) {
	cp := &columnPipe{Column: c.Name}
	switch {
	case len(ops) > 0 && ops[0].Op == "dateparts":
		if c.Type != table.Timestamp {
			return nil, fmt.Errorf("dateparts needs a timestamp column, not %s", c.Type)
		}
		cp.Input = inTime
	case c.Type.Text():
		cp.Input = inText
	default:
		cp.Input = inNumber
	}
	s, err := cp.input(c)
	if err != nil {
		return nil, err
	}
	for i, op := range ops {
		if s.kind == kOut {
			return nil, fmt.Errorf("op %d (%s) follows %s, which must be last", i+1, op.Op, ops[i-1].Op)
		}
		st, err := fitStep(op, s, c.Name)
		if err != nil {
			return nil, fmt.Errorf("op %d (%s): %w", i+1, op.Op, err)
		}
		st.prepare()
		if s, err = st.apply(s, c.Name); err != nil {
			return nil, fmt.Errorf("op %d (%s): %w", i+1, op.Op, err)
		}
		cp.Steps = append(cp.Steps, st)
	}
	if s.kind == kText || s.kind == kCoded {
		var st *step
		var err error
		if spec.Categorical == Onehot {
			st, err = fitStep(Transform{Op: Onehot, MaxCategories: spec.OnehotMaxCategories}, s, c.Name)
		} else {
			st, err = fitNative(s, spec.NativeMaxCategories)
		}
		if err != nil {
			return nil, err
		}
		st.prepare()
		if _, err = st.apply(s, c.Name); err != nil {
			return nil, err
		}
		cp.Steps = append(cp.Steps, st)
	}
	cp.Names, cp.Categories, err = cp.shape()
	if err != nil {
		return nil, err
	}
	return cp, nil
}

// shape replays the steps' kinds and returns the output names and category
// counts, or an error for a chain the ops cannot form.
func (cp *columnPipe) shape() ([]string, []int, error) {
	var k kind
	switch cp.Input {
	case inNumber:
		k = kNum
	case inText:
		k = kText
	case inTime:
		k = kTime
	default:
		return nil, nil, fmt.Errorf("unknown input %q", cp.Input)
	}
	for i, st := range cp.Steps {
		if k == kOut {
			return nil, nil, fmt.Errorf("step %d (%s) follows a final step", i+1, st.Op)
		}
		if k == kTime && st.Op != "dateparts" {
			return nil, nil, fmt.Errorf("step %d (%s) on a timestamp", i+1, st.Op)
		}
		switch st.Op {
		case "impute":
			if k == kCoded {
				return nil, nil, errors.New("impute after bucketize or hash")
			}
		case "standardize", "minmax", "log1p", "clip":
			if k != kNum {
				return nil, nil, fmt.Errorf("%s needs a numeric column", st.Op)
			}
		case "bucketize":
			if k != kNum {
				return nil, nil, errors.New("bucketize needs a numeric column")
			}
			if !sortedStrictly(st.Boundaries) {
				return nil, nil, errors.New("bucketize boundaries must be finite and strictly increasing")
			}
			k = kCoded
		case "hash":
			if k == kCoded {
				return nil, nil, errors.New("hash after bucketize or hash")
			}
			if st.Buckets < 2 || st.Buckets > 1<<20 {
				return nil, nil, fmt.Errorf("hash buckets %d outside 2..1048576", st.Buckets)
			}
			k = kCoded
		case Onehot:
			if st.Unknown != "ignore" && st.Unknown != "error" {
				return nil, nil, fmt.Errorf("onehot unknown %q is neither \"ignore\" nor \"error\"", st.Unknown)
			}
			names := make([]string, 0, len(st.Vocabulary)+1)
			for _, v := range st.Vocabulary {
				names = append(names, cp.Column+"="+v)
			}
			if st.Other {
				names = append(names, cp.Column+"="+otherName)
			}
			return names, make([]int, len(names)), cp.last(i)
		case opCategorical:
			n := st.K
			if k == kCoded {
				if st.K < 1 || len(st.Vocabulary) > 0 || st.Other {
					return nil, nil, errors.New("bad categorical step")
				}
			} else {
				n = len(st.Vocabulary)
				if st.Other {
					n++
				}
				if n < 1 || st.K != 0 {
					return nil, nil, errors.New("bad categorical step")
				}
			}
			return []string{cp.Column}, []int{n}, cp.last(i)
		case "dateparts":
			if k != kTime || len(st.Parts) == 0 {
				return nil, nil, errors.New("dateparts needs a timestamp column and parts")
			}
			names := make([]string, len(st.Parts))
			for j, part := range st.Parts {
				if !slices.Contains(dateParts, part) {
					return nil, nil, fmt.Errorf("unknown date part %q", part)
				}
				names[j] = cp.Column + "." + part
			}
			return names, make([]int, len(names)), cp.last(i)
		default:
			return nil, nil, fmt.Errorf("unknown op %q", st.Op)
		}
	}
	switch k {
	case kNum:
		return []string{cp.Column}, []int{0}, nil
	default:
		return nil, nil, errors.New("chain does not end in a numeric or encoded feature")
	}
}

func (cp *columnPipe) last(i int) error {
	if i != len(cp.Steps)-1 {
		return fmt.Errorf("step %d (%s) must be last", i+1, cp.Steps[i].Op)
	}
	return nil
}

var dateParts = []string{"year", "month", "day", "weekday", "hour"}

func sortedStrictly(b []float64) bool {
	if len(b) == 0 {
		return false
	}
	for i, v := range b {
		if math.IsNaN(v) || math.IsInf(v, 0) || (i > 0 && v <= b[i-1]) {
			return false
		}
	}
	return true
}

// input reads the column into a stream as the pipe's input says.
func (cp *columnPipe) input(c *table.Column) (stream, error) {
	n := c.Len()
	switch cp.Input {
	case inTime:
		if c.Type != table.Timestamp {
			return stream{}, fmt.Errorf("is %s, was a timestamp when fitted", c.Type)
		}
		return stream{kind: kTime, n: n, times: c.Ints, valid: c.Valid}, nil
	case inText:
		if c.Type.Text() {
			return stream{kind: kText, n: n, codes: c.Codes, dict: c.Dict}, nil
		}
		return toText(numbers(c)), nil
	default:
		if !c.Numeric() {
			return stream{}, fmt.Errorf("is %s, was numeric when fitted", c.Type)
		}
		return numbers(c), nil
	}
}

// numbers reads a numeric column as a fresh kNum stream.
func numbers(c *table.Column) stream {
	n := c.Len()
	out := make([]float64, n)
	switch c.Type {
	case table.Float:
		copy(out, c.Floats)
	case table.Int:
		for i, v := range c.Ints {
			out[i] = float64(v)
		}
		if c.Valid != nil {
			for i := range out {
				if !c.Valid.Get(i) {
					out[i] = math.NaN()
				}
			}
		}
	default:
		for i := range out {
			out[i] = c.Number(i)
		}
	}
	return stream{kind: kNum, n: n, num: out}
}

// toText turns numbers or codes into text categories.
func toText(s stream) stream {
	out := stream{kind: kText, n: s.n, codes: make([]int32, s.n)}
	switch s.kind {
	case kCoded:
		out.dict = make([]string, s.k)
		for i := range out.dict {
			out.dict[i] = strconv.Itoa(i)
		}
		copy(out.codes, s.codes)
	default:
		idx := map[float64]int32{}
		for i, v := range s.num {
			if math.IsNaN(v) {
				out.codes[i] = -1
				continue
			}
			code, ok := idx[v]
			if !ok {
				code = int32(len(out.dict))
				idx[v] = code
				out.dict = append(out.dict, table.FormatNumber(v))
			}
			out.codes[i] = code
		}
	}
	return out
}

// textCounts counts the rows of each dictionary entry (dict entries are
// distinct in a table; toText makes them distinct too).
func textCounts(s stream) map[string]int {
	n := make([]int, len(s.dict))
	for _, c := range s.codes {
		if c >= 0 {
			n[c]++
		}
	}
	out := make(map[string]int, len(s.dict))
	for i, k := range n {
		if k > 0 {
			out[s.dict[i]] += k
		}
	}
	return out
}

// byFrequency orders categories by count, descending, then by name.
func byFrequency(counts map[string]int) []string {
	names := make([]string, 0, len(counts))
	for k := range counts {
		names = append(names, k)
	}
	sort.Slice(names, func(a, b int) bool {
		if counts[names[a]] != counts[names[b]] {
			return counts[names[a]] > counts[names[b]]
		}
		return names[a] < names[b]
	})
	return names
}

func present(num []float64) []float64 {
	out := make([]float64, 0, len(num))
	for _, v := range num {
		if !math.IsNaN(v) {
			out = append(out, v)
		}
	}
	return out
}

func finite(vals ...float64) error {
	for _, v := range vals {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return errors.New("the training rows give a non-finite statistic (an infinite value?)")
		}
	}
	return nil
}

var errNoValues = errors.New("no value in the training rows: the column is all missing")

// fitStep fits op on s, the training rows' stream.
func fitStep(op Transform, s stream, col string) (*step, error) {
	st := &step{Op: op.Op}
	if s.kind == kTime && op.Op != "dateparts" {
		return nil, errors.New("a timestamp column takes dateparts first")
	}
	needNum := func() error {
		if s.kind != kNum {
			return fmt.Errorf("needs a numeric column, and this one is categorical here")
		}
		return nil
	}
	switch op.Op {
	case "impute":
		st.Strategy = op.Strategy
		if st.Strategy == "" {
			st.Strategy = "median"
		}
		if s.kind == kCoded {
			return nil, errors.New("impute must come before bucketize or hash")
		}
		if s.kind == kText {
			switch st.Strategy {
			case "mode":
				counts := textCounts(s)
				if len(counts) == 0 {
					return nil, errNoValues
				}
				st.FillText = byFrequency(counts)[0]
			case "constant":
				v, err := constantText(op.Value)
				if err != nil {
					return nil, err
				}
				st.FillText = v
			case "median", "mean":
				return nil, fmt.Errorf("strategy %s needs a numeric column; use mode or constant", st.Strategy)
			default:
				return nil, fmt.Errorf("unknown strategy %q", st.Strategy)
			}
			return st, nil
		}
		vals := present(s.num)
		switch st.Strategy {
		case "constant":
			v, err := constantNumber(op.Value)
			if err != nil {
				return nil, err
			}
			st.Fill = v
		case "median", "mean", "mode":
			if len(vals) == 0 {
				return nil, errNoValues
			}
			switch st.Strategy {
			case "median":
				slices.Sort(vals)
				m := len(vals) / 2
				if len(vals)%2 == 1 {
					st.Fill = vals[m]
				} else {
					st.Fill = (vals[m-1] + vals[m]) / 2
				}
			case "mean":
				st.Fill = mean(vals)
			case "mode":
				slices.Sort(vals)
				best, bestN := vals[0], 0
				for i := 0; i < len(vals); {
					j := i
					for j < len(vals) && vals[j] == vals[i] {
						j++
					}
					if j-i > bestN {
						best, bestN = vals[i], j-i
					}
					i = j
				}
				st.Fill = best
			}
		default:
			return nil, fmt.Errorf("unknown strategy %q", st.Strategy)
		}
		return st, finite(st.Fill)
	case "standardize":
		if err := needNum(); err != nil {
			return nil, err
		}
		vals := present(s.num)
		if len(vals) == 0 {
			return nil, errNoValues
		}
		st.Mean = mean(vals)
		var ss float64
		for _, v := range vals {
			d := v - st.Mean
			ss += d * d
		}
		st.Scale = math.Sqrt(ss / float64(len(vals)))
		if st.Scale == 0 {
			st.Scale = 1
		}
		return st, finite(st.Mean, st.Scale)
	case "minmax":
		if err := needNum(); err != nil {
			return nil, err
		}
		vals := present(s.num)
		if len(vals) == 0 {
			return nil, errNoValues
		}
		lo, hi := slices.Min(vals), slices.Max(vals)
		st.Min, st.Range = lo, hi-lo
		if st.Range == 0 {
			st.Range = 1
		}
		return st, finite(st.Min, st.Range)
	case "log1p":
		if err := needNum(); err != nil {
			return nil, err
		}
		for _, v := range s.num {
			if v <= -1 {
				return nil, fmt.Errorf("a training value %v is at or below -1, where log1p is undefined; clip it first", v)
			}
		}
		return st, nil
	case "clip":
		if err := needNum(); err != nil {
			return nil, err
		}
		if op.Min == nil && op.Max == nil {
			return nil, errors.New("clip needs min, max or both")
		}
		if op.Min != nil {
			lo := *op.Min
			st.Lo = &lo
		}
		if op.Max != nil {
			hi := *op.Max
			st.Hi = &hi
		}
		if (st.Lo != nil && (math.IsNaN(*st.Lo) || math.IsInf(*st.Lo, 0))) || (st.Hi != nil && (math.IsNaN(*st.Hi) || math.IsInf(*st.Hi, 0))) {
			return nil, errors.New("clip bounds must be finite")
		}
		if st.Lo != nil && st.Hi != nil && *st.Lo > *st.Hi {
			return nil, fmt.Errorf("clip min %v is above max %v", *st.Lo, *st.Hi)
		}
		return st, nil
	case "bucketize":
		if err := needNum(); err != nil {
			return nil, err
		}
		if !sortedStrictly(op.Boundaries) {
			return nil, errors.New("boundaries must be one or more finite numbers, strictly increasing")
		}
		st.Boundaries = slices.Clone(op.Boundaries)
		return st, nil
	case "hash":
		if s.kind == kCoded {
			return nil, errors.New("hash after bucketize or hash")
		}
		st.Buckets = op.Buckets
		if st.Buckets == 0 {
			st.Buckets = DefaultHashBuckets
		}
		if st.Buckets < 2 || st.Buckets > 1<<20 {
			return nil, fmt.Errorf("buckets %d outside 2..1048576", st.Buckets)
		}
		return st, nil
	case Onehot:
		st.Unknown = op.Unknown
		if st.Unknown == "" {
			st.Unknown = "ignore"
		}
		if st.Unknown != "ignore" && st.Unknown != "error" {
			return nil, fmt.Errorf("unknown %q is neither \"ignore\" nor \"error\"", st.Unknown)
		}
		max := op.MaxCategories
		if max == 0 {
			max = DefaultOnehotMaxCategories
		}
		if max < 2 {
			return nil, fmt.Errorf("maxCategories %d is below 2", max)
		}
		if s.kind != kText {
			s = toText(s)
		}
		names := byFrequency(textCounts(s))
		if len(names) > max {
			st.Vocabulary, st.Other = names[:max-1:max-1], true
			if st.Unknown == "error" {
				st.Rest = slices.Clone(names[max-1:])
			}
		} else {
			st.Vocabulary = names
		}
		return st, nil
	case "dateparts":
		if s.kind != kTime {
			return nil, errors.New("dateparts must be the first op of a timestamp column")
		}
		st.Parts = slices.Clone(op.Parts)
		if len(st.Parts) == 0 {
			st.Parts = []string{"year", "month", "day", "weekday"}
		}
		for _, p := range st.Parts {
			if !slices.Contains(dateParts, p) {
				return nil, fmt.Errorf("unknown part %q (want year, month, day, weekday or hour)", p)
			}
		}
		return st, nil
	}
	return nil, fmt.Errorf("unknown op %q", op.Op)
}

// fitNative fits the native categorical encoding of a categorical stream.
func fitNative(s stream, max int) (*step, error) {
	st := &step{Op: opCategorical}
	if s.kind == kCoded {
		st.K = s.k
		return st, nil
	}
	names := byFrequency(textCounts(s))
	switch {
	case len(names) == 0:
		st.Other = true
	case len(names) > max:
		st.Vocabulary, st.Other = names[:max-1:max-1], true
	default:
		st.Vocabulary = names
	}
	return st, nil
}

func mean(vals []float64) float64 {
	var s float64
	for _, v := range vals {
		s += v
	}
	return s / float64(len(vals))
}

func constantNumber(v any) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, finite(x)
	case float32:
		return float64(x), finite(float64(x))
	case int:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	case string:
		f, err := strconv.ParseFloat(x, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, fmt.Errorf("constant %q is not a number, and the column is numeric", x)
		}
		return f, nil
	case nil:
		return 0, errors.New("constant strategy needs a value")
	}
	return 0, fmt.Errorf("constant %v (%T) is not a number", v, v)
}

func constantText(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case nil:
		return "", errors.New("constant strategy needs a value")
	}
	f, err := constantNumber(v)
	if err != nil {
		return "", err
	}
	return table.FormatNumber(f), nil
}

// apply runs the pipe on t and returns its output columns.
func (cp *columnPipe) apply(t *table.Table) ([][]float64, error) {
	c := t.Column(cp.Column)
	if c == nil {
		return nil, errors.New("not in the table")
	}
	s, err := cp.input(c)
	if err != nil {
		return nil, err
	}
	for _, st := range cp.Steps {
		if s, err = st.apply(s, cp.Column); err != nil {
			return nil, err
		}
	}
	if s.kind == kNum {
		return [][]float64{s.num}, nil
	}
	return s.outs, nil
}

// apply runs the fitted step on s.
func (st *step) apply(s stream, col string) (stream, error) {
	switch st.Op {
	case "impute":
		if s.kind == kText {
			fill := int32(slices.Index(s.dict, st.FillText))
			codes := make([]int32, s.n)
			copy(codes, s.codes)
			dict := s.dict
			for i, c := range codes {
				if c >= 0 {
					continue
				}
				if fill < 0 {
					dict = append(dict[:len(dict):len(dict)], st.FillText)
					fill = int32(len(dict) - 1)
				}
				codes[i] = fill
			}
			return stream{kind: kText, n: s.n, codes: codes, dict: dict}, nil
		}
		for i, v := range s.num {
			if math.IsNaN(v) {
				s.num[i] = st.Fill
			}
		}
		return s, nil
	case "standardize":
		for i, v := range s.num {
			s.num[i] = (v - st.Mean) / st.Scale
		}
		return s, nil
	case "minmax":
		for i, v := range s.num {
			s.num[i] = (v - st.Min) / st.Range
		}
		return s, nil
	case "log1p":
		for i, v := range s.num {
			if v <= -1 {
				s.num[i] = math.NaN()
			} else {
				s.num[i] = math.Log1p(v)
			}
		}
		return s, nil
	case "clip":
		for i, v := range s.num {
			if st.Lo != nil && v < *st.Lo {
				v = *st.Lo
			}
			if st.Hi != nil && v > *st.Hi {
				v = *st.Hi
			}
			s.num[i] = v
		}
		return s, nil
	case "bucketize":
		out := stream{kind: kCoded, n: s.n, k: len(st.Boundaries) + 1, codes: make([]int32, s.n)}
		b := st.Boundaries
		for i, v := range s.num {
			if math.IsNaN(v) {
				out.codes[i] = -1
				continue
			}
			out.codes[i] = int32(sort.Search(len(b), func(j int) bool { return b[j] > v }))
		}
		return out, nil
	case "hash":
		if s.kind != kText {
			s = toText(s)
		}
		bucket := make([]int32, len(s.dict))
		for i, v := range s.dict {
			bucket[i] = int32(fnv1a(v) % uint32(st.Buckets))
		}
		out := stream{kind: kCoded, n: s.n, k: st.Buckets, codes: make([]int32, s.n)}
		for i, c := range s.codes {
			if c < 0 {
				out.codes[i] = -1
			} else {
				out.codes[i] = bucket[c]
			}
		}
		return out, nil
	case Onehot:
		if s.kind != kText {
			s = toText(s)
		}
		width := len(st.Vocabulary)
		other := int32(-1)
		if st.Other {
			other = int32(width)
			width++
		}
		trans, err := st.translate(s, other, col)
		if err != nil {
			return stream{}, err
		}
		outs := make([][]float64, width)
		for j := range outs {
			outs[j] = make([]float64, s.n)
		}
		for i, c := range s.codes {
			if c < 0 {
				continue
			}
			if j := trans[c]; j >= 0 {
				outs[j][i] = 1
			} else if j == -3 {
				return stream{}, fmt.Errorf("row %d: category %q was not seen in training (onehot unknown: error)", i+1, s.dict[c])
			}
		}
		return stream{kind: kOut, n: s.n, outs: outs}, nil
	case opCategorical:
		out := make([]float64, s.n)
		if s.kind == kCoded {
			for i, c := range s.codes {
				if c < 0 {
					out[i] = math.NaN()
				} else {
					out[i] = float64(c)
				}
			}
			return stream{kind: kOut, n: s.n, outs: [][]float64{out}}, nil
		}
		other := int32(-1)
		if st.Other {
			other = int32(len(st.Vocabulary))
		}
		trans, err := st.translate(s, other, col)
		if err != nil {
			return stream{}, err
		}
		for i, c := range s.codes {
			if c < 0 || trans[c] < 0 {
				out[i] = math.NaN()
			} else {
				out[i] = float64(trans[c])
			}
		}
		return stream{kind: kOut, n: s.n, outs: [][]float64{out}}, nil
	case "dateparts":
		outs := make([][]float64, len(st.Parts))
		for j := range outs {
			outs[j] = make([]float64, s.n)
		}
		for i, ns := range s.times {
			if !s.valid.Get(i) {
				for j := range outs {
					outs[j][i] = math.NaN()
				}
				continue
			}
			tm := time.Unix(0, ns).UTC()
			for j, p := range st.Parts {
				var v int
				switch p {
				case "year":
					v = tm.Year()
				case "month":
					v = int(tm.Month())
				case "day":
					v = tm.Day()
				case "weekday":
					v = int(tm.Weekday())
				case "hour":
					v = tm.Hour()
				}
				outs[j][i] = float64(v)
			}
		}
		return stream{kind: kOut, n: s.n, outs: outs}, nil
	}
	return stream{}, fmt.Errorf("unknown op %q", st.Op)
}

// translate maps each dictionary entry of s to its output index: a
// vocabulary index, other (when >= 0) for a category not kept, -1 to set
// nothing, or -3 for an unseen category that is an error (Unknown
// "error"). Unused entries never raise the error.
func (st *step) translate(s stream, other int32, col string) ([]int32, error) {
	trans := make([]int32, len(s.dict))
	for i, v := range s.dict {
		j, ok := st.index[v]
		switch {
		case ok && j >= 0:
			trans[i] = j
		case ok: // seen in training, lumped into other
			trans[i] = other
		case st.Unknown == "error":
			trans[i] = -3
		default:
			trans[i] = other
		}
	}
	return trans, nil
}

// fnv1a is the 32-bit FNV-1a hash of s.
func fnv1a(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}
