// Package trigger fires the retraining a spec declares when monitoring
// finds drift (monitoring.retraining.via): a GitHub repository_dispatch
// event of type slipway-retrain-<pipeline>, which the GitHub Actions
// target's workflow listens for, carrying the drift verdict as its client
// payload; a submission of the compiled Argo Workflow; or a local run.
// Episodes debounces them: once per drift episode, never twice within a
// cooldown.
package trigger

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// GitHub fires repository_dispatch events.
type GitHub struct {
	// Repository is "owner/name".
	Repository string
	// Token is a GitHub token allowed to dispatch (contents: write).
	Token string
	// API is the API base URL. Default https://api.github.com.
	API string
	// Client is the HTTP client. Default: one with a 30 s timeout.
	Client *http.Client
}

// EventType is the repository_dispatch type that retrains a pipeline.
func EventType(pipeline string) string { return "slipway-retrain-" + pipeline }

// Retrain sends the retraining event of a pipeline with a payload (the
// drift summary), at most 10 top-level keys as GitHub allows.
func (g GitHub) Retrain(ctx context.Context, pipeline string, payload map[string]any) error {
	if !strings.Contains(g.Repository, "/") {
		return fmt.Errorf("retrain %s: repository %q is not owner/name", pipeline, g.Repository)
	}
	if g.Token == "" {
		return fmt.Errorf("retrain %s: no GitHub token", pipeline)
	}
	if len(payload) > 10 {
		return fmt.Errorf("retrain %s: the payload has %d keys; GitHub allows 10", pipeline, len(payload))
	}
	api := strings.TrimSuffix(g.API, "/")
	if api == "" {
		api = "https://api.github.com"
	}
	client := g.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	body, err := json.Marshal(map[string]any{"event_type": EventType(pipeline), "client_payload": payload})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, api+"/repos/"+g.Repository+"/dispatches", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+g.Token)
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("retrain %s: %s", pipeline, strings.ReplaceAll(err.Error(), g.Token, "***"))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent && resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("retrain %s: GitHub answered %s: %s", pipeline, resp.Status, strings.ReplaceAll(strings.TrimSpace(string(msg)), g.Token, "***"))
	}
	return nil
}
