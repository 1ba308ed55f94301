package check

import (
	"fmt"
	"strconv"
	"strings"
)

// cronField is the range of one field of a five-field cron expression.
type cronField struct {
	name     string
	min, max int
	names    []string // names for values from min, for months and weekdays
}

var cronFields = []cronField{
	{name: "minute", min: 0, max: 59},
	{name: "hour", min: 0, max: 23},
	{name: "day of month", min: 1, max: 31},
	{name: "month", min: 1, max: 12, names: []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}},
	{name: "day of week", min: 0, max: 7, names: []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}},
}

var cronMacros = map[string]bool{
	"@yearly": true, "@annually": true, "@monthly": true, "@weekly": true,
	"@daily": true, "@midnight": true, "@hourly": true,
}

// ParseCron checks a cron expression as Argo CronWorkflows and Kubernetes
// CronJobs accept it: five fields (minute, hour, day of month, month, day of
// week) of values, ranges, lists and steps, or a macro such as "@daily"
// (GitHub Actions takes five fields only; its backend rewrites macros).
func ParseCron(expr string) error {
	expr = strings.TrimSpace(expr)
	if cronMacros[expr] {
		return nil
	}
	fields := strings.Fields(expr)
	if len(fields) != 5 {
		return fmt.Errorf("a cron schedule has 5 fields (minute hour day-of-month month day-of-week), found %d", len(fields))
	}
	for i, f := range fields {
		if err := cronFields[i].check(f); err != nil {
			return fmt.Errorf("%s field %q: %w", cronFields[i].name, f, err)
		}
	}
	return nil
}

func (cf cronField) check(field string) error {
	for _, part := range strings.Split(field, ",") {
		rng, step, hasStep := strings.Cut(part, "/")
		if hasStep {
			n, err := strconv.Atoi(step)
			if err != nil || n < 1 || n > cf.max {
				return fmt.Errorf("step %q must be a number from 1 to %d", step, cf.max)
			}
		}
		if rng == "*" {
			continue
		}
		lo, hi, isRange := strings.Cut(rng, "-")
		a, err := cf.value(lo)
		if err != nil {
			return err
		}
		if !isRange {
			continue
		}
		b, err := cf.value(hi)
		if err != nil {
			return err
		}
		if a > b {
			return fmt.Errorf("range %s-%s runs backwards", lo, hi)
		}
	}
	return nil
}

func (cf cronField) value(s string) (int, error) {
	if s == "" {
		return 0, fmt.Errorf("empty value")
	}
	for i, n := range cf.names {
		if strings.EqualFold(s, n) {
			return cf.min + i, nil
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if n < cf.min || n > cf.max {
		return 0, fmt.Errorf("%d is out of range %d-%d", n, cf.min, cf.max)
	}
	return n, nil
}
