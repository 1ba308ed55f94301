package dataset

import (
	"fmt"

	"github.com/slipway-ml/slipway/runners/train/table"
)

// finish returns a builder's finished column. An inferred text column with
// more than table.DefaultMaxInferredCategories distinct values is a string
// column, else a category.
func finish(b *table.Builder, inferredText bool) *table.Column {
	c := b.Column()
	if inferredText {
		c.Type = table.Category
		if b.Distinct() > table.DefaultMaxInferredCategories {
			c.Type = table.String
		}
	}
	return c
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// quote quotes s for an error message, cut to 64 bytes.
func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return fmt.Sprintf("%q", s)
}
