package fetch

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	getter "github.com/hashicorp/go-getter"
)

func TestGettersAllowList(t *testing.T) {
	f := newFetcher(t, nil, WithTimeout(time.Minute), WithMaxBytes(1000))
	m := f.getters()
	if len(m) != 3 {
		t.Fatalf("getters = %v, want https, s3 and gcs only", m)
	}
	h, ok := m["https"].(*getter.HttpGetter)
	if !ok || h.Netrc || !h.XTerraformGetDisabled || h.Client != f.client || h.MaxBytes != 1001 || h.ReadTimeout != time.Minute {
		t.Errorf("https getter = %+v", m["https"])
	}
	if s3, ok := m["s3"].(*getter.S3Getter); !ok || s3.Timeout != time.Minute {
		t.Errorf("s3 getter = %+v", m["s3"])
	}
	if gcs, ok := m["gcs"].(*getter.GCSGetter); !ok || gcs.Timeout != time.Minute {
		t.Errorf("gcs getter = %+v", m["gcs"])
	}

	only := newFetcher(t, nil, WithSchemes(SchemeFile, SchemeS3))
	if m := only.getters(); len(m) != 1 || m["s3"] == nil {
		t.Errorf("getters with file and s3 allowed = %v, want s3 only", m)
	}
}

// noCloudCredentials points the cloud SDKs at empty configuration so that
// they find no credentials and ask no metadata server.
func noCloudCredentials(t *testing.T) {
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":                      "",
		"AWS_SECRET_ACCESS_KEY":                  "",
		"AWS_SESSION_TOKEN":                      "",
		"AWS_PROFILE":                            "",
		"AWS_REGION":                             "",
		"AWS_DEFAULT_REGION":                     "",
		"AWS_CONFIG_FILE":                        filepath.Join(dir, "aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE":            filepath.Join(dir, "aws-credentials"),
		"AWS_EC2_METADATA_DISABLED":              "true",
		"AWS_WEB_IDENTITY_TOKEN_FILE":            "",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI":     "",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "",
		"AWS_METADATA_URL":                       "",
		"GOOGLE_APPLICATION_CREDENTIALS":         filepath.Join(dir, "gcp-credentials.json"),
		"GOOGLE_OAUTH_ACCESS_TOKEN":              "",
		"CLOUDSDK_CONFIG":                        dir,
		"GCE_METADATA_HOST":                      "127.0.0.1:1",
	} {
		t.Setenv(k, v)
	}
}

func TestCloudSourcesWithoutCredentials(t *testing.T) {
	noCloudCredentials(t)
	for _, src := range []string{"s3://slipway-test-bucket/data/churn.csv", "gs://slipway-test-bucket/data/churn.csv"} {
		t.Run(src, func(t *testing.T) {
			f := newFetcher(t, nil, WithTimeout(20*time.Second))
			before, _ := cacheFiles(t, f)
			start := time.Now()
			_, err := f.Fetch(context.Background(), Request{Source: src, SHA256: digest(csv)})
			if err == nil {
				t.Fatal("fetch succeeded without credentials")
			}
			if !strings.HasPrefix(err.Error(), "fetch "+src+": ") {
				t.Errorf("error = %q, want it to name the source", err)
			}
			if d := time.Since(start); d > 25*time.Second {
				t.Errorf("fetch took %s, beyond its timeout", d)
			}
			t.Logf("error: %v", err)
			assertClean(t, f, before)
		})
	}
}
