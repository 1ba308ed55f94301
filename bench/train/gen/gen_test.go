package gen

import (
	"bytes"
	"strings"
	"testing"
)

func TestDeterministicAndShaped(t *testing.T) {
	var a, b bytes.Buffer
	pa, err := New(7).Write(&a, 20000, 0)
	if err != nil {
		t.Fatal(err)
	}
	pb, _ := New(7).Write(&b, 20000, 0)
	if pa != pb || !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("same seed, different output")
	}
	lines := strings.Split(strings.TrimSpace(a.String()), "\n")
	if len(lines) != 20001 || lines[0] != strings.Join(Header, ",") {
		t.Fatalf("got %d lines, header %q", len(lines), lines[0])
	}
	for _, l := range lines[1:] {
		if n := strings.Count(l, ","); n != len(Header)-1 {
			t.Fatalf("row %q has %d commas", l, n)
		}
	}
	if share := float64(pa) / 20000; share < 0.12 || share > 0.18 {
		t.Errorf("churn share %.3f, want about 0.15", share)
	}
	var c bytes.Buffer
	New(8).Write(&c, 100, 0)
	if bytes.Equal(c.Bytes(), a.Bytes()[:c.Len()]) {
		t.Error("different seeds, same output")
	}
}
