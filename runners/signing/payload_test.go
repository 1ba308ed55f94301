package signing

import (
	"errors"
	"strings"
	"testing"
)

const goodPayload = `{"critical":{"identity":{"docker-reference":"r.example/team/model"},"image":{"docker-manifest-digest":"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},"type":"cosign container image signature"},"optional":null}`

func TestNewPayloadMatchesCosign(t *testing.T) {
	got, err := NewPayload("r.example/team/model", mustHash(t, digestA))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != goodPayload {
		t.Fatalf("NewPayload\n got %s\nwant %s", got, goodPayload)
	}
}

func TestParsePayload(t *testing.T) {
	replace := func(old, new string) string {
		if !strings.Contains(goodPayload, old) {
			t.Fatalf("test payload lacks %q", old)
		}
		return strings.Replace(goodPayload, old, new, 1)
	}
	tests := []struct {
		name    string
		in      string
		want    error
		message string
	}{
		{name: "cosign's payload", in: goodPayload},
		{name: "annotations", in: replace(`"optional":null`, `"optional":{"sha":"abc","n":1}`)},
		{name: "no optional", in: replace(`,"optional":null`, ``)},
		{name: "whitespace", in: "\n " + goodPayload + "\n"},
		{"wrong type", replace("cosign container image signature", "atomic container signature"), ErrPayloadType, `critical.type is "atomic container signature"`},
		{"type not a string", replace(`"type":"cosign container image signature"`, `"type":1`), ErrMalformedPayload, "critical.type must be a string"},
		{"type null", replace(`"type":"cosign container image signature"`, `"type":null`), ErrMalformedPayload, "critical.type must be a string"},
		{"duplicate key", replace(`"type":`, `"type":"x","type":`), ErrMalformedPayload, `key "type" appears twice`},
		{"case-variant key", replace(`docker-manifest-digest`, `Docker-manifest-digest`), ErrMalformedPayload, `unexpected keys "Docker-manifest-digest"`},
		{"unknown critical key", replace(`"type":`, `"extra":1,"type":`), ErrMalformedPayload, `critical has unexpected keys "extra"`},
		{"unknown top-level key", replace(`"optional":null`, `"optional":null,"more":true`), ErrMalformedPayload, `payload has unexpected keys "more"`},
		{"missing identity", replace(`"identity":{"docker-reference":"r.example/team/model"},`, ``), ErrMalformedPayload, `critical has no "identity" key`},
		{"empty identity", replace(`"r.example/team/model"`, `""`), ErrMalformedPayload, "docker-reference is empty"},
		{"bad digest", replace(`sha256:aaaa`, `sha256:aaa`), ErrMalformedPayload, "docker-manifest-digest"},
		{"sha512 digest", replace(`sha256:`, `sha512:`), ErrMalformedPayload, "docker-manifest-digest"},
		{"optional array", replace(`"optional":null`, `"optional":[1]`), ErrMalformedPayload, "optional must be an object or null"},
		{"trailing data", goodPayload + "{}", ErrMalformedPayload, "data after the JSON document"},
		{"not JSON", "cosign", ErrMalformedPayload, "not a JSON document"},
		{"empty", "", ErrMalformedPayload, "not a JSON document"},
		{"array", "[]", ErrMalformedPayload, "payload must be a JSON object"},
		{"invalid UTF-8", replace("r.example", "r.\xffexample"), ErrMalformedPayload, "not valid UTF-8"},
		{"deep nesting", replace(`"optional":null`, `"optional":{"a":`+strings.Repeat("[", 40)+strings.Repeat("]", 40)+`}`), ErrMalformedPayload, "nested deeper"},
		{"too large", replace(`"optional":null`, `"optional":{"a":"`+strings.Repeat("x", MaxPayloadSize)+`"}`), ErrMalformedPayload, "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePayload([]byte(tt.in))
			if tt.want == nil {
				if err != nil {
					t.Fatalf("ParsePayload: %v", err)
				}
				if p.Critical.Identity.DockerReference != "r.example/team/model" || p.Critical.Image.DockerManifestDigest != digestA {
					t.Fatalf("parsed %+v", p)
				}
				return
			}
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.message) {
				t.Fatalf("err = %v, want %v saying %q", err, tt.want, tt.message)
			}
		})
	}
}
