package trigger

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRetrain(t *testing.T) {
	var got map[string]any
	var auth, path string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth, path = r.Header.Get("Authorization"), r.URL.Path
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &got)
		if r.Header.Get("Authorization") != "Bearer s3cret" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"message":"Bad credentials s3cret"}`))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	g := GitHub{Repository: "acme/ml", Token: "s3cret", API: srv.URL}
	if err := g.Retrain(context.Background(), "churn", map[string]any{"share_drifted": 0.6}); err != nil {
		t.Fatal(err)
	}
	if path != "/repos/acme/ml/dispatches" || auth != "Bearer s3cret" || got["event_type"] != "slipway-retrain-churn" {
		t.Errorf("request: %s %s %v", path, auth, got)
	}
	if p := got["client_payload"].(map[string]any); p["share_drifted"] != 0.6 {
		t.Errorf("payload %v", p)
	}
	g.Token = "wrong"
	err := g.Retrain(context.Background(), "churn", nil)
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("bad token: %v", err)
	}
	for _, bad := range []GitHub{{Repository: "acme", Token: "x"}, {Repository: "acme/ml"}} {
		if err := bad.Retrain(context.Background(), "churn", nil); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
	big := map[string]any{}
	for i := range 11 {
		big[string(rune('a'+i))] = i
	}
	if err := (GitHub{Repository: "a/b", Token: "x", API: srv.URL}).Retrain(context.Background(), "churn", big); err == nil {
		t.Error("11 payload keys: no error")
	}
}

// TestTokenNeverShown checks that a server echoing the token does not put
// it in the error.
func TestTokenNeverShown(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(r.Header.Get("Authorization")))
	}))
	defer srv.Close()
	err := GitHub{Repository: "a/b", Token: "tok-123", API: srv.URL}.Retrain(context.Background(), "p", nil)
	if err == nil || strings.Contains(err.Error(), "tok-123") {
		t.Errorf("error %v", err)
	}
}
