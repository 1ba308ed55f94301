package metrics

import (
	"fmt"
	"slices"
)

// GroupStats is the confusion matrix of one group at a threshold, with the
// rates the fairness metrics compare.
type GroupStats struct {
	// Group is the value of the group column.
	Group string `json:"group"`
	// Confusion counts the group's rows.
	Confusion Confusion `json:"confusion"`
	// SelectionRate is the share of the group's rows predicted positive.
	SelectionRate float64 `json:"selection_rate"`
	// TPR is the group's true positive rate (recall); 0 when the group has
	// no positive label (see HasPositives).
	TPR float64 `json:"tpr"`
	// HasPositives reports whether the group has at least one positive
	// label, that is whether TPR is defined.
	HasPositives bool `json:"has_positives"`
}

// ByGroup returns the confusion matrix and rates of each group at threshold
// (a row is predicted positive when its score is >= threshold), sorted by
// group name. groups[i] is the group of row i; any string, the empty one
// included, names a group.
func ByGroup(y, p []float64, groups []string, threshold float64) ([]GroupStats, error) {
	if len(groups) != len(y) {
		return nil, fmt.Errorf("by group: length mismatch: %d labels, %d group values", len(y), len(groups))
	}
	if _, err := ConfusionAt(y, p, threshold); err != nil {
		return nil, fmt.Errorf("by group: %w", err)
	}
	byName := map[string]*Confusion{}
	for i, g := range groups {
		c := byName[g]
		if c == nil {
			c = &Confusion{}
			byName[g] = c
		}
		predPos := p[i] >= threshold
		switch {
		case y[i] == 1 && predPos:
			c.TP++
		case y[i] == 1:
			c.FN++
		case predPos:
			c.FP++
		default:
			c.TN++
		}
	}
	out := make([]GroupStats, 0, len(byName))
	for g, c := range byName {
		out = append(out, GroupStats{
			Group:         g,
			Confusion:     *c,
			SelectionRate: c.SelectionRate(),
			TPR:           c.Recall(),
			HasPositives:  c.TP+c.FN > 0,
		})
	}
	slices.SortFunc(out, func(a, b GroupStats) int {
		switch {
		case a.Group < b.Group:
			return -1
		case a.Group > b.Group:
			return 1
		}
		return 0
	})
	return out, nil
}

// selectionRange returns the smallest and largest selection rate over
// groups.
func selectionRange(stats []GroupStats) (lo, hi float64) {
	lo, hi = stats[0].SelectionRate, stats[0].SelectionRate
	for _, s := range stats[1:] {
		lo = min(lo, s.SelectionRate)
		hi = max(hi, s.SelectionRate)
	}
	return lo, hi
}

// DemographicParityDifference returns the largest minus the smallest
// selection rate (share of rows with score >= threshold) across the groups,
// as Fairlearn's demographic_parity_difference with its default
// method="between_groups". It is 0 when every group is selected at the same
// rate, and 0 for a single group.
func DemographicParityDifference(y, p []float64, groups []string, threshold float64) (float64, error) {
	stats, err := ByGroup(y, p, groups, threshold)
	if err != nil {
		return 0, fmt.Errorf("demographic parity difference: %w", err)
	}
	lo, hi := selectionRange(stats)
	return hi - lo, nil
}

// EqualOpportunityDifference returns the largest minus the smallest true
// positive rate P(score >= threshold | y = 1) across the groups, as
// Fairlearn's equal_opportunity_difference with method="between_groups".
// A group without a positive label has no true positive rate: that is an
// error naming the group (Fairness reports the other metrics regardless).
func EqualOpportunityDifference(y, p []float64, groups []string, threshold float64) (float64, error) {
	stats, err := ByGroup(y, p, groups, threshold)
	if err != nil {
		return 0, fmt.Errorf("equal opportunity difference: %w", err)
	}
	for _, s := range stats {
		if !s.HasPositives {
			return 0, fmt.Errorf("equal opportunity difference: group %q has no positive label, so its true positive rate is undefined", s.Group)
		}
	}
	lo, hi := stats[0].TPR, stats[0].TPR
	for _, s := range stats[1:] {
		lo = min(lo, s.TPR)
		hi = max(hi, s.TPR)
	}
	return hi - lo, nil
}

// DisparateImpact returns the smallest selection rate divided by the
// largest across the groups (Fairlearn's demographic_parity_ratio; AIF360's
// disparate_impact with the least-selected group as unprivileged). A value
// below 0.8 is the "four-fifths rule" evidence of adverse impact. When no
// group has any row selected (0/0) every group is treated alike and the
// result is defined as 1; when some group is selected and another is not,
// it is 0.
func DisparateImpact(y, p []float64, groups []string, threshold float64) (float64, error) {
	stats, err := ByGroup(y, p, groups, threshold)
	if err != nil {
		return 0, fmt.Errorf("disparate impact: %w", err)
	}
	lo, hi := selectionRange(stats)
	if hi == 0 {
		return 1, nil
	}
	return lo / hi, nil
}
