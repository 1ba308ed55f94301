package table

import "io"

// ParseInt reads s as ReadCSV reads an int field: decimal digits with an
// optional sign, surrounding blanks allowed. It reports whether s is one.
func ParseInt(s string) (int64, bool) { return parseInt(s) }

// ParseFloat reads s as ReadCSV reads a float field: a decimal number,
// exponent allowed, or NaN/Inf; hexadecimal and underscored forms are
// refused, as is a value out of float64's range. It reports whether s is
// one.
func ParseFloat(s string) (float64, bool) { return parseFloat(s) }

// ParseBool reads s as ReadCSV reads a bool field: true, TRUE, True,
// false, FALSE or False. It reports whether s is one.
func ParseBool(s string) (bool, bool) { return parseBool(s) }

// LimitReader returns a reader of r that fails, naming the limit, once
// more than limit bytes have been read (MaxBytes of the readers).
func LimitReader(r io.Reader, limit int64) io.Reader {
	return &limitReader{r: r, left: limit, limit: limit}
}
