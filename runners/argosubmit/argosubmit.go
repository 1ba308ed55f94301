// Package argosubmit submits a rendered Argo Workflow to an Argo Server
// through its REST API and follows it until it finishes.
//
// It speaks plain HTTP(S) to two endpoints: POST /api/v1/workflows/{ns}
// creates the workflow (the server turns metadata.generateName into a
// name) and GET /api/v1/workflows/{ns}/{name} reads its status, polled
// until status.phase is Succeeded, Failed or Error.
package argosubmit

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

// DefaultPoll is the interval between status reads when Options.Poll is 0.
const DefaultPoll = 5 * time.Second

// DefaultNamespace is the namespace used when Options.Namespace is empty.
const DefaultNamespace = "default"

// Workflow phases reported by Argo.
const (
	PhasePending   = "Pending"
	PhaseRunning   = "Running"
	PhaseSucceeded = "Succeeded"
	PhaseFailed    = "Failed"
	PhaseError     = "Error"
)

// maxBody bounds what is read from one response; workflows with many
// nodes carry large status objects.
const maxBody = 64 << 20

// Options say what to submit and where.
type Options struct {
	// Server is the Argo Server's base URL, e.g. https://argo.example:2746.
	// Required.
	Server string
	// Namespace is the namespace the workflow runs in. Default
	// DefaultNamespace.
	Namespace string
	// Workflow is the rendered Workflow, YAML or JSON
	// (argo/<pipeline>/workflow.yaml). Required.
	Workflow []byte
	// Parameters set spec.arguments.parameters by name, replacing the value
	// of a parameter the workflow already lists, e.g. {"repo": URL}.
	Parameters map[string]string
	// Token is sent as "Authorization: Bearer <Token>" when not empty; a
	// token that already starts with "Bearer " is sent as is. It never
	// appears in errors.
	Token string
	// CACert is a PEM bundle of the certificate authorities trusted for
	// the server's certificate; when set, only these are trusted. Default:
	// the system roots.
	CACert []byte
	// Insecure skips verification of the server's certificate, for test
	// servers with self-signed certificates.
	Insecure bool
	// Poll is the interval between status reads. Default DefaultPoll.
	Poll time.Duration
	// Timeout bounds the whole submission and wait. Default: none beyond
	// the context's.
	Timeout time.Duration
	// Detach returns as soon as the server has created the workflow,
	// without waiting for it to run.
	Detach bool
	// Progress, when set, is called with a node's name and its new phase
	// each time a node appears or changes phase; nodes of one status read
	// come in name order. A node's name is Argo's node name without the
	// "<workflow>." prefix; the workflow's own node is named after it.
	Progress func(node, phase string)
}

// Result is what is known of a submitted workflow.
type Result struct {
	// Name is the name the server gave the workflow.
	Name string
	// Phase is the last phase read: Pending, Running, Succeeded, Failed
	// or Error, or empty before the controller picked it up.
	Phase string
	// Message is the workflow's status message, if any.
	Message string
	// Nodes maps each node's name (as given to Progress) to its phase.
	Nodes map[string]string
}

// Submit creates the workflow and waits until it finishes. It returns an
// error when the workflow ends Failed or Error (naming the failed nodes
// and their messages), when ctx ends or Timeout passes first, and when
// the server refuses a request; the Result is non-nil whenever the
// workflow was created, so its name and last known state are available
// alongside the error.
func Submit(ctx context.Context, o Options) (*Result, error) {
	if o.Server == "" {
		return nil, errors.New("submit workflow: no Argo Server URL given")
	}
	base, err := url.Parse(strings.TrimRight(o.Server, "/"))
	if err != nil {
		return nil, fmt.Errorf("submit workflow: parse Argo Server URL: %w", err)
	}
	if base.Scheme != "http" && base.Scheme != "https" || base.Host == "" {
		return nil, fmt.Errorf("submit workflow: Argo Server URL %q: want http(s)://host[:port]", o.Server)
	}
	if o.Namespace == "" {
		o.Namespace = DefaultNamespace
	}
	if o.Poll <= 0 {
		o.Poll = DefaultPoll
	}
	body, err := prepare(o.Workflow, o.Namespace, o.Parameters)
	if err != nil {
		return nil, fmt.Errorf("submit workflow: %w", err)
	}
	client, err := httpClient(o.CACert, o.Insecure)
	if err != nil {
		return nil, fmt.Errorf("submit workflow: %w", err)
	}
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	c := &conn{client: client, base: base.String(), token: o.Token}

	var created workflow
	if err := c.do(ctx, http.MethodPost, "/api/v1/workflows/"+url.PathEscape(o.Namespace), body, &created); err != nil {
		return nil, fmt.Errorf("submit workflow to namespace %s: %w", o.Namespace, err)
	}
	name := created.Metadata.Name
	if name == "" {
		return nil, errors.New("submit workflow: the Argo Server accepted the workflow but returned no metadata.name")
	}
	res := &Result{Name: name, Nodes: map[string]string{}}
	res.update(&created, o.Progress)
	if o.Detach {
		return res, nil
	}

	path := "/api/v1/workflows/" + url.PathEscape(o.Namespace) + "/" + url.PathEscape(name)
	for {
		var wf workflow
		if err := c.do(ctx, http.MethodGet, path, nil, &wf); err != nil {
			if ctx.Err() != nil {
				return res, waitError(res, ctx)
			}
			return res, fmt.Errorf("read status of workflow %s: %w", name, err)
		}
		res.update(&wf, o.Progress)
		switch res.Phase {
		case PhaseSucceeded:
			return res, nil
		case PhaseFailed, PhaseError:
			return res, failure(res, &wf)
		}
		t := time.NewTimer(o.Poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return res, waitError(res, ctx)
		case <-t.C:
		}
	}
}

// waitError says the wait ended before the workflow did.
func waitError(res *Result, ctx context.Context) error {
	phase := res.Phase
	if phase == "" {
		phase = "not started"
	}
	return fmt.Errorf("wait for workflow %s (still %s): %w", res.Name, phase, context.Cause(ctx))
}

// update records the phases of wf and reports the changes.
func (r *Result) update(wf *workflow, progress func(node, phase string)) {
	r.Phase = wf.Status.Phase
	r.Message = wf.Status.Message
	seen := map[string]string{}
	for _, n := range wf.Status.Nodes {
		seen[r.nodeName(n)] = n.Phase
	}
	for _, name := range slices.Sorted(maps.Keys(seen)) {
		phase := seen[name]
		if old, ok := r.Nodes[name]; ok && old == phase {
			continue
		}
		r.Nodes[name] = phase
		if progress != nil {
			progress(name, phase)
		}
	}
}

// nodeName is a node's name relative to the workflow.
func (r *Result) nodeName(n node) string {
	if n.Name == "" {
		return n.ID
	}
	if rest, ok := strings.CutPrefix(n.Name, r.Name+"."); ok && rest != "" {
		return rest
	}
	return n.Name
}

// failure describes a workflow that ended Failed or Error.
func failure(res *Result, wf *workflow) error {
	var failed []string
	for _, n := range wf.Status.Nodes {
		if n.Phase != PhaseFailed && n.Phase != PhaseError {
			continue
		}
		name := res.nodeName(n)
		if name == res.Name {
			continue
		}
		msg := n.Message
		if msg == "" {
			msg = "no message"
		}
		failed = append(failed, fmt.Sprintf("%s %s: %s", name, strings.ToLower(n.Phase), msg))
	}
	slices.Sort(failed)
	var b strings.Builder
	fmt.Fprintf(&b, "workflow %s ended %s", res.Name, res.Phase)
	if res.Message != "" {
		fmt.Fprintf(&b, ": %s", res.Message)
	}
	if len(failed) > 0 {
		fmt.Fprintf(&b, "; failed nodes: %s", strings.Join(failed, "; "))
	}
	return errors.New(b.String())
}

// workflow is the part of an Argo Workflow this package reads.
type workflow struct {
	Metadata struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Status struct {
		Phase   string          `json:"phase"`
		Message string          `json:"message"`
		Nodes   map[string]node `json:"nodes"`
	} `json:"status"`
}

// node is the part of an Argo node status this package reads.
type node struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Phase   string `json:"phase"`
	Message string `json:"message"`
}

// prepare turns the rendered workflow into the create request's body:
// {"workflow": <object>} with the namespace and parameters set.
func prepare(data []byte, namespace string, params map[string]string) ([]byte, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("no workflow given")
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("decode workflow YAML: %w", err)
	}
	var obj map[string]any
	if err := json.Unmarshal(js, &obj); err != nil || obj == nil {
		return nil, fmt.Errorf("decode workflow: want a YAML mapping, found %s", describe(js))
	}
	if kind, _ := obj["kind"].(string); kind != "Workflow" {
		return nil, fmt.Errorf("decode workflow: want kind Workflow, found %q", obj["kind"])
	}
	meta, ok := obj["metadata"].(map[string]any)
	if !ok {
		if obj["metadata"] != nil {
			return nil, errors.New("decode workflow: metadata is not a mapping")
		}
		meta = map[string]any{}
		obj["metadata"] = meta
	}
	if ns, _ := meta["namespace"].(string); ns != "" && ns != namespace {
		return nil, fmt.Errorf("workflow names namespace %q but is submitted to %q", ns, namespace)
	}
	meta["namespace"] = namespace
	if len(params) > 0 {
		if err := setParameters(obj, params); err != nil {
			return nil, err
		}
	}
	return json.Marshal(map[string]any{"workflow": obj})
}

// setParameters sets spec.arguments.parameters[name].value for each
// parameter, in name order for those not already listed.
func setParameters(obj map[string]any, params map[string]string) error {
	spec, err := child(obj, "spec")
	if err != nil {
		return err
	}
	args, err := child(spec, "arguments")
	if err != nil {
		return fmt.Errorf("spec.%w", err)
	}
	var list []any
	if v, ok := args["parameters"]; ok && v != nil {
		if list, ok = v.([]any); !ok {
			return errors.New("spec.arguments.parameters is not a list")
		}
	}
	done := map[string]bool{}
	for _, p := range list {
		m, ok := p.(map[string]any)
		if !ok {
			return errors.New("spec.arguments.parameters holds an entry that is not a mapping")
		}
		name, _ := m["name"].(string)
		if v, ok := params[name]; ok {
			m["value"] = v
			delete(m, "valueFrom")
			done[name] = true
		}
	}
	for _, name := range slices.Sorted(maps.Keys(params)) {
		if !done[name] {
			list = append(list, map[string]any{"name": name, "value": params[name]})
		}
	}
	args["parameters"] = list
	return nil
}

// child returns m[key] as a mapping, creating it when absent.
func child(m map[string]any, key string) (map[string]any, error) {
	v, ok := m[key]
	if !ok || v == nil {
		c := map[string]any{}
		m[key] = c
		return c, nil
	}
	c, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s is not a mapping", key)
	}
	return c, nil
}

// describe names the JSON type of js for error messages.
func describe(js []byte) string {
	var v any
	if json.Unmarshal(js, &v) != nil {
		return "invalid JSON"
	}
	switch v.(type) {
	case nil:
		return "an empty document"
	case []any:
		return "a list"
	case string:
		return "a string"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	}
	return "a mapping"
}

// httpClient returns a client trusting caCert (PEM) when given.
func httpClient(caCert []byte, insecure bool) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	if len(caCert) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(caCert) {
			return nil, errors.New("CA certificate: want PEM-encoded certificates, found none")
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	tr.TLSClientConfig.InsecureSkipVerify = insecure //nolint:gosec // asked for explicitly, for self-signed test servers.
	return &http.Client{Transport: tr}, nil
}

// conn is a connection to one Argo Server.
type conn struct {
	client *http.Client
	base   string
	token  string
}

// do sends one request and decodes a 2xx JSON response into out.
func (c *conn) do(ctx context.Context, method, path string, body []byte, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		tok := c.token
		if !strings.HasPrefix(tok, "Bearer ") {
			tok = "Bearer " + tok
		}
		req.Header.Set("Authorization", tok)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("%s %s: read response: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return &StatusError{Method: method, Path: path, StatusCode: resp.StatusCode, Status: resp.Status, Message: errorMessage(data)}
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: decode response: want a JSON workflow, found %s", method, path, describe(data))
	}
	return nil
}

// StatusError is a response of the Argo Server outside 2xx.
type StatusError struct {
	// Method and Path are the request's.
	Method, Path string
	// StatusCode is the HTTP status code, e.g. 400.
	StatusCode int
	// Status is the HTTP status line, e.g. "400 Bad Request".
	Status string
	// Message is Argo's error message from the JSON body ({"code": 3,
	// "message": "..."}), or the start of a body that is not such JSON.
	Message string
}

// Error says what the server answered.
func (e *StatusError) Error() string {
	msg := fmt.Sprintf("%s %s: Argo Server answered %s", e.Method, e.Path, e.Status)
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// errorMessage extracts Argo's (grpc-gateway's) error message from body,
// or returns the start of the body when it is not that shape.
func errorMessage(body []byte) string {
	var e struct {
		Message string `json:"message"`
		Error   string `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil {
		if e.Message != "" {
			return e.Message
		}
		if e.Error != "" {
			return e.Error
		}
	}
	s := strings.TrimSpace(strings.ToValidUTF8(string(body), "\uFFFD"))
	const limit = 200
	if r := []rune(s); len(r) > limit {
		s = string(r[:limit]) + "…"
	}
	return s
}
