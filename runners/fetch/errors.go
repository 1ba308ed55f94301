package fetch

import (
	"fmt"
	"strconv"
)

// MismatchError reports content whose sha256 is not the pinned one.
type MismatchError struct {
	// Expected is the pinned digest, in hex.
	Expected string
	// Actual is the digest of what was read, in hex.
	Actual string
}

// Error says which digest was expected and which was found.
func (e *MismatchError) Error() string {
	return fmt.Sprintf("sha256 mismatch: expected %s, got %s", e.Expected, e.Actual)
}

// limitError reports something larger than the size limit.
type limitError struct {
	what  string
	limit int64
}

func (e *limitError) Error() string {
	return fmt.Sprintf("%s is larger than the %s limit", e.what, formatBytes(e.limit))
}

// formatBytes writes n in binary units: "4 GiB", "1.5 MiB", "100 bytes".
func formatBytes(n int64) string {
	units := []struct {
		size int64
		name string
	}{{1 << 40, "TiB"}, {1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}}
	for _, u := range units {
		if n < u.size {
			continue
		}
		if n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + " " + u.name
		}
		return strconv.FormatFloat(float64(n)/float64(u.size), 'f', 1, 64) + " " + u.name
	}
	if n == 1 {
		return "1 byte"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
