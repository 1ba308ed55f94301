package train

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// setParams sets the fields of the params struct p (a pointer) named by the
// keys of set, matched case-insensitively ("maxDepth", "maxdepth" and
// "MaxDepth" name one field). Values are parsed by the field's type; a list
// of ints is written "64,32".
func setParams(p any, set map[string]string) error {
	v := reflect.ValueOf(p).Elem()
	t := v.Type()
	var names []string
	for i := range t.NumField() {
		names = append(names, lowerFirst(t.Field(i).Name))
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		raw := set[k]
		f := v.FieldByNameFunc(func(n string) bool { return strings.EqualFold(n, k) })
		if !f.IsValid() {
			return fmt.Errorf("train: unknown parameter %q (parameters: %s)", k, strings.Join(names, ", "))
		}
		if err := setField(f, raw); err != nil {
			return fmt.Errorf("train: parameter %s=%s: %w", k, raw, err)
		}
	}
	return nil
}

func setField(f reflect.Value, raw string) error {
	switch f.Kind() {
	case reflect.Int, reflect.Int64, reflect.Int32:
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return fmt.Errorf("want an integer")
		}
		f.SetInt(n)
	case reflect.Uint64, reflect.Uint32, reflect.Uint:
		n, err := strconv.ParseUint(raw, 10, 64)
		if err != nil {
			return fmt.Errorf("want a non-negative integer")
		}
		f.SetUint(n)
	case reflect.Float64:
		x, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			return fmt.Errorf("want a number")
		}
		f.SetFloat(x)
	case reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return fmt.Errorf("want true or false")
		}
		f.SetBool(b)
	case reflect.String:
		f.SetString(raw)
	case reflect.Slice:
		if f.Type().Elem().Kind() != reflect.Int {
			return fmt.Errorf("cannot be set from the command line")
		}
		var out []int
		for _, part := range strings.Split(raw, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(part))
			if err != nil {
				return fmt.Errorf("want integers separated by commas")
			}
			out = append(out, n)
		}
		f.Set(reflect.ValueOf(out))
	default:
		return fmt.Errorf("cannot be set from the command line")
	}
	return nil
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
