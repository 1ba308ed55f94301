package pii

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"strings"
	"testing"

	"github.com/slipway-ml/slipway/runners/train/table"
)

var key = []byte("0123456789abcdef0123456789abcdef")

func people(t *testing.T) *table.Table {
	t.Helper()
	valid := table.NewBitmap(4, true)
	valid.Clear(2)
	tb, err := table.New(
		table.NewText("email", table.String, []string{"a@x.com", "b@x.com", "", "a@x.com"}, valid),
		table.NewText("city", table.Category, []string{"Oslo", "Rome", "Oslo", ""}, table.Bitmap{0b0111}),
		table.NewInt("phone", []int64{5550100, 5550101, 0, 5550100}, valid),
		table.NewFloat("age", []float64{30, 41, math.NaN(), 30}),
	)
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

func texts(c *table.Column) []string {
	out := make([]string, c.Len())
	for i := range out {
		s, ok := c.Text(i)
		if !ok {
			s = "<null>"
		}
		out[i] = s
	}
	return out
}

func TestPseudonym(t *testing.T) {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("a@x.com"))
	want := hex.EncodeToString(mac.Sum(nil))[:PseudonymLen]
	if got := Pseudonym(key, "a@x.com"); got != want {
		t.Errorf("Pseudonym = %s, want %s", got, want)
	}
	if len(want) != 32 {
		t.Errorf("length %d", len(want))
	}
	if Pseudonym(key, "a@x.com") == Pseudonym(key, "b@x.com") {
		t.Error("two values share a pseudonym")
	}
	other := []byte("fedcba9876543210fedcba9876543210")
	if Pseudonym(key, "a@x.com") == Pseudonym(other, "a@x.com") {
		t.Error("two keys give the same pseudonym")
	}
}

func TestPseudonymize(t *testing.T) {
	tb := people(t)
	out, err := Apply(tb, []string{"email", "city", "phone"}, Pseudonymize, key)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(out.Names(), ","); got != "email,city,phone,age" {
		t.Errorf("names %s", got)
	}
	email, city, phone := out.Column("email"), out.Column("city"), out.Column("phone")
	if email.Type != table.String || city.Type != table.Category || phone.Type != table.String {
		t.Errorf("types %s %s %s", email.Type, city.Type, phone.Type)
	}
	p := func(s string) string { return Pseudonym(key, s) }
	want := map[string][]string{
		"email": {p("a@x.com"), p("b@x.com"), "<null>", p("a@x.com")},
		"city":  {p("Oslo"), p("Rome"), p("Oslo"), "<null>"},
		"phone": {p("5550100"), p("5550101"), "<null>", p("5550100")},
		"age":   {"30", "41", "<null>", "30"},
	}
	for name, w := range want {
		if got := texts(out.Column(name)); strings.Join(got, ",") != strings.Join(w, ",") {
			t.Errorf("%s: %v, want %v", name, got, w)
		}
	}
	if out.Column("age") != tb.Column("age") {
		t.Error("an untouched column was copied")
	}
	// The input is unchanged.
	if s, _ := tb.Column("email").Text(0); s != "a@x.com" {
		t.Errorf("input changed: %s", s)
	}
	// Deterministic: the same input and key give the same table.
	again, err := Apply(people(t), []string{"phone", "city", "email"}, Pseudonymize, key)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"email", "city", "phone"} {
		if a, b := texts(out.Column(name)), texts(again.Column(name)); strings.Join(a, ",") != strings.Join(b, ",") {
			t.Errorf("%s differs between runs", name)
		}
		if len(out.Column(name).Dict) != len(again.Column(name).Dict) {
			t.Errorf("%s dictionary differs", name)
		}
	}
	// Keyed: another key gives other pseudonyms.
	other, err := Apply(people(t), []string{"email"}, Pseudonymize, []byte("another key of 16+ bytes"))
	if err != nil {
		t.Fatal(err)
	}
	if a, b := texts(out.Column("email")), texts(other.Column("email")); a[0] == b[0] || a[1] == b[1] {
		t.Error("another key gave the same pseudonyms")
	}
	// An unused dictionary entry is not carried over.
	sub := tb.Subset([]int{1})
	s, err := Apply(sub, []string{"city"}, Pseudonymize, key)
	if err != nil {
		t.Fatal(err)
	}
	if c := s.Column("city"); len(c.Dict) != 1 || c.Dict[0] != p("Rome") {
		t.Errorf("subset dictionary %v", c.Dict)
	}
}

func TestDrop(t *testing.T) {
	tb := people(t)
	out, err := Apply(tb, []string{"phone", "email", "phone"}, Drop, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(out.Names(), ","); got != "city,age" || out.Rows() != 4 {
		t.Errorf("after drop: %s, %d rows", got, out.Rows())
	}
	if len(tb.Columns()) != 4 {
		t.Error("input changed")
	}
	out, err = Apply(tb, nil, Drop, nil)
	if err != nil || len(out.Columns()) != 4 {
		t.Errorf("drop nothing: %v", err)
	}
}

func TestApplyErrors(t *testing.T) {
	tb := people(t)
	cases := []struct {
		name    string
		cols    []string
		action  string
		key     []byte
		want    string
		notWant string
	}{
		{"unknown action", []string{"email"}, "keep", key, `unknown action "keep"; expected "drop" or "pseudonymize"`, ""},
		{"missing column", []string{"ssn"}, Drop, nil, `column "ssn" is marked pii but is not in the data`, ""},
		{"missing column pseudonymize", []string{"ssn"}, Pseudonymize, key, `column "ssn"`, ""},
		{"no key", []string{"email"}, Pseudonymize, nil, "needs an HMAC key from the secret features.pii.keySecret names", ""},
		{"short key", []string{"email"}, Pseudonymize, []byte("hunter2"), "is 7 bytes; at least 16", "hunter2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Apply(tb, c.cols, c.action, c.key)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
			if c.notWant != "" && strings.Contains(err.Error(), c.notWant) {
				t.Fatalf("error %q shows the key", err)
			}
		})
	}
}

func TestKeyFromEnv(t *testing.T) {
	const secret = "PII_HMAC_KEY"
	t.Setenv(KeyEnv, "")
	t.Setenv(secret, "")
	_, err := KeyFromEnv(secret)
	if err == nil || !strings.Contains(err.Error(), `secret "PII_HMAC_KEY"`) || !strings.Contains(err.Error(), KeyEnv) {
		t.Fatalf("unset: %v", err)
	}
	t.Setenv(secret, "short-secret")
	_, err = KeyFromEnv(secret)
	if err == nil || !strings.Contains(err.Error(), "12 bytes") || strings.Contains(err.Error(), "short-secret") {
		t.Fatalf("short: %v", err)
	}
	t.Setenv(secret, "a secret named like itself")
	k, err := KeyFromEnv(secret)
	if err != nil || string(k) != "a secret named like itself" {
		t.Fatalf("by secret name: %q, %v", k, err)
	}
	t.Setenv(KeyEnv, "the pipeline's own variable")
	k, err = KeyFromEnv(secret)
	if err != nil || string(k) != "the pipeline's own variable" {
		t.Fatalf("by %s: %q, %v", KeyEnv, k, err)
	}
}
