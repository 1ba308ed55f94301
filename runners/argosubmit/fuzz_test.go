package argosubmit

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzPrepare(f *testing.F) {
	f.Add([]byte("apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata:\n  generateName: churn-\nspec:\n  workflowTemplateRef:\n    name: churn\n"), "ml", "repo", "https://git.example/x.git")
	f.Add([]byte("kind: Workflow\nspec:\n  arguments:\n    parameters:\n    - name: repo\n      valueFrom: {configMapKeyRef: {name: slipway, key: repo}}\n"), "default", "repo", "u")
	f.Add([]byte("kind: Workflow\nspec: 3\n"), "ml", "repo", "u")
	f.Add([]byte("kind: Workflow\nmetadata: [1]\n"), "ml", "", "")
	f.Add([]byte("- a\n"), "ml", "", "")
	f.Add([]byte("{\"kind\": \"Workflow\", \"spec\": {\"arguments\": {\"parameters\": [1]}}}"), "ml", "p", "v")
	f.Fuzz(func(t *testing.T, data []byte, ns, param, value string) {
		if ns == "" {
			return
		}
		params := map[string]string{}
		if param != "" {
			params[param] = value
		}
		body, err := prepare(data, ns, params)
		if err != nil {
			if body != nil {
				t.Fatalf("body %q returned with error %v", body, err)
			}
			return
		}
		var req struct {
			Workflow struct {
				Kind     string `json:"kind"`
				Metadata struct {
					Namespace string `json:"namespace"`
				} `json:"metadata"`
				Spec struct {
					Arguments struct {
						Parameters []struct {
							Name  string  `json:"name"`
							Value *string `json:"value"`
						} `json:"parameters"`
					} `json:"arguments"`
				} `json:"spec"`
			} `json:"workflow"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			t.Fatalf("prepared body does not decode: %v\n%s", err, body)
		}
		if req.Workflow.Kind != "Workflow" {
			t.Errorf("kind = %q, want Workflow", req.Workflow.Kind)
		}
		if utf8.ValidString(ns) && req.Workflow.Metadata.Namespace != ns {
			t.Errorf("namespace = %q, want %q", req.Workflow.Metadata.Namespace, ns)
		}
		if param != "" && utf8.ValidString(param) && utf8.ValidString(value) {
			found := false
			for _, p := range req.Workflow.Spec.Arguments.Parameters {
				if p.Name == param && p.Value != nil && *p.Value == value {
					found = true
				}
			}
			if !found {
				t.Errorf("parameter %q=%q missing from %s", param, value, body)
			}
		}
	})
}

func FuzzErrorMessage(f *testing.F) {
	f.Add([]byte(`{"code":3,"message":"workflow is invalid","details":[]}`))
	f.Add([]byte(`{"error":"forbidden"}`))
	f.Add([]byte("<html>bad gateway</html>"))
	f.Add([]byte(strings.Repeat("x", 500)))
	f.Add([]byte("\xff\xfe"))
	f.Fuzz(func(t *testing.T, body []byte) {
		msg := errorMessage(body)
		if !utf8.ValidString(msg) {
			t.Errorf("message %q is not valid UTF-8", msg)
		}
		if len([]rune(msg)) > 201 && !json.Valid(body) {
			t.Errorf("message of a non-JSON body is %d runes long, want at most 201", len([]rune(msg)))
		}
	})
}

func TestErrorMessage(t *testing.T) {
	tests := []struct{ body, want string }{
		{`{"code":3,"message":"workflow is invalid","details":[]}`, "workflow is invalid"},
		{`{"error":"forbidden"}`, "forbidden"},
		{"  <html>bad gateway</html>\n", "<html>bad gateway</html>"},
		{strings.Repeat("é", 300), strings.Repeat("é", 200) + "…"},
		{"", ""},
	}
	for _, tc := range tests {
		if got := errorMessage([]byte(tc.body)); got != tc.want {
			t.Errorf("errorMessage(%.30q) = %q, want %q", tc.body, got, tc.want)
		}
	}
}
