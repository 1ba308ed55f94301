package gitops

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"golang.org/x/crypto/ssh"
)

// token has characters that URL and base64 encodings change, so that each
// encoding of it is checked.
const token = "ghp_S3cr3t/To+ken=42"

// leaks lists the forms of token that must never appear in an error.
func leaks(user string) []string {
	return []string{
		token,
		url.QueryEscape(token),
		url.PathEscape(token),
		base64.StdEncoding.EncodeToString([]byte(user + ":" + token)),
	}
}

func TestTokenAuthOverHTTPS(t *testing.T) {
	dir, _ := newRemote(t)
	srv := &gitServer{dir: dir, user: tokenUser, pass: token}
	repoURL, ca := serveHTTPS(t, srv)

	res, err := Deliver(context.Background(), Target{URL: repoURL, Dir: prodDir, Auth: TokenAuth(token), CABundle: ca, Author: sig("s")}, chart("1"), "with token")
	if err != nil {
		t.Fatal(err)
	}
	if !res.Changed || remoteHead(t, dir, "main").String() != res.Commit || srv.auths.Load() == 0 {
		t.Fatalf("result %+v, %d authenticated requests; want the commit pushed with the token", res, srv.auths.Load())
	}

	_, err = Deliver(context.Background(), Target{URL: repoURL, Dir: prodDir, Auth: TokenAuth("wrong-" + token), CABundle: ca}, chart("2"), "bad token")
	if !errors.Is(err, transport.ErrAuthenticationRequired) {
		t.Fatalf("err = %v; want authentication required", err)
	}
	for _, leak := range append(leaks(tokenUser), "wrong-") {
		if strings.Contains(err.Error(), leak) {
			t.Errorf("error %q contains %q", err, leak)
		}
	}

	// Without the server's certificate the connection is refused.
	_, err = Deliver(context.Background(), Target{URL: repoURL, Dir: prodDir, Auth: TokenAuth(token)}, chart("2"), "untrusted")
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("err = %v; want a certificate error", err)
	}
}

func TestErrorsNeverPrintToken(t *testing.T) {
	dir, _ := newRemote(t)
	echo, echoCA := serveHTTPS(t, &gitServer{dir: dir, echo: true})
	strict, strictCA := serveHTTPS(t, &gitServer{dir: dir, user: "someone", pass: "else"})
	withUser := func(raw string, u *url.Userinfo) string {
		p, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		p.User = u
		return p.String()
	}
	tests := []struct {
		name string
		url  string
		auth transport.AuthMethod
		ca   []byte
		user string
	}{
		{"echoing server, token auth", echo, TokenAuth(token), echoCA, tokenUser},
		{"echoing server, token in URL", withUser(echo, url.UserPassword(tokenUser, token)), nil, echoCA, tokenUser},
		{"echoing server, token as URL user", withUser(echo, url.User(token)), nil, echoCA, ""},
		{"refusing server, token auth", strict, TokenAuth(token), strictCA, tokenUser},
		{"refusing server, token in URL", withUser(strict, url.UserPassword("me", token)), nil, strictCA, "me"},
		{"refusing server, bearer token", strict, &githttp.TokenAuth{Token: token}, strictCA, ""},
		{"untrusted server, token in URL", withUser(strict, url.UserPassword(tokenUser, token)), nil, nil, tokenUser},
		{"bad scheme, token in URL", "http://" + tokenUser + ":" + url.QueryEscape(token) + "@example.test/r.git", nil, nil, tokenUser},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Deliver(context.Background(), Target{URL: tt.url, Dir: prodDir, Auth: tt.auth, CABundle: tt.ca}, chart("1"), "x")
			if err == nil {
				t.Fatal("Deliver succeeded; want an error")
			}
			for _, leak := range leaks(tt.user) {
				if strings.Contains(err.Error(), leak) {
					t.Errorf("error %q contains %q", err, leak)
				}
			}
			t.Log(err)
		})
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://github.com/org/repo.git", "https://github.com/org/repo.git"},
		{"https://x-access-token:abc@github.com/org/repo.git", "https://x-access-token:xxxxx@github.com/org/repo.git"},
		{"https://abc@github.com/org/repo.git", "https://xxxxx@github.com/org/repo.git"},
		{"ssh://git@github.com/org/repo.git", "ssh://git@github.com/org/repo.git"},
		{"https://u:p%zz@host/x", "https://xxxxx@host/x"},
	}
	for _, tt := range tests {
		if got := redactURL(tt.in); got != tt.want {
			t.Errorf("redactURL(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestRedactedErrorKeepsIdentity(t *testing.T) {
	r := redactor{secrets: []string{"tok"}}
	err := r.wrap(errors.Join(context.Canceled, errors.New("saw tok")))
	if strings.Contains(err.Error(), "tok") || !errors.Is(err, context.Canceled) {
		t.Errorf("wrapped error %q: want the secret masked and context.Canceled kept", err)
	}
	if errors.Unwrap(err) != nil {
		t.Error("a redacted error unwraps to the unmasked one")
	}
	plain := errors.New("nothing secret")
	if r.wrap(plain) != plain {
		t.Error("an error without secrets was replaced")
	}
}

// sshKeys returns an ed25519 private key in OpenSSH PEM form, encrypted with
// passphrase when it is not empty.
func sshKeyPEM(t *testing.T, passphrase string) []byte {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var block *pem.Block
	if passphrase == "" {
		block, err = ssh.MarshalPrivateKey(priv, "test")
	} else {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(priv, "test", []byte(passphrase))
	}
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(block)
}

func hostKey(t *testing.T) ssh.PublicKey {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSSHAuthChecksKnownHosts(t *testing.T) {
	known := hostKey(t)
	kh := filepath.Join(t.TempDir(), "known_hosts")
	line := "[git.example.test]:2222 " + string(ssh.MarshalAuthorizedKey(known))
	if err := os.WriteFile(kh, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SSH_KNOWN_HOSTS", kh)

	auth, err := SSHAuth(sshKeyPEM(t, "pass phrase"), "pass phrase")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse("ssh://deploy@git.example.test:2222/org/gitops.git")
	a, ok := authFor(auth, u.String()).(*sshKeyAuth)
	if !ok {
		t.Fatalf("authFor returned %T; want *sshKeyAuth", authFor(auth, u.String()))
	}
	cfg, err := a.ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.User != "deploy" {
		t.Errorf("user = %q; want the URL's user deploy", cfg.User)
	}
	if !slices.Contains(cfg.HostKeyAlgorithms, ssh.KeyAlgoED25519) {
		t.Errorf("host key algorithms = %v; want the known host's ssh-ed25519", cfg.HostKeyAlgorithms)
	}
	addr := &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 2222}
	if err := cfg.HostKeyCallback("git.example.test:2222", addr, known); err != nil {
		t.Errorf("known host key refused: %v", err)
	}
	if err := cfg.HostKeyCallback("git.example.test:2222", addr, hostKey(t)); err == nil {
		t.Error("a changed host key was accepted")
	}
	if err := cfg.HostKeyCallback("other.example.test:22", addr, known); err == nil {
		t.Error("an unknown host was accepted")
	}
	if orig := auth.(*sshKeyAuth); orig.User != "git" || orig.hostPort != "" {
		t.Errorf("authFor changed the caller's auth: user %q host %q", orig.User, orig.hostPort)
	}
}

func TestSSHAuthErrors(t *testing.T) {
	kh := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(kh, []byte("git.example.test "+string(ssh.MarshalAuthorizedKey(hostKey(t)))), 0o600); err != nil {
		t.Fatal(err)
	}
	encrypted := sshKeyPEM(t, "right horse")
	tests := []struct {
		name       string
		knownHosts string
		key        []byte
		passphrase string
		want       string
	}{
		{"wrong passphrase", kh, encrypted, "wrong horse", "parse SSH private key"},
		{"missing passphrase", kh, encrypted, "", "no passphrase was given"},
		{"not a key", kh, []byte("-----BEGIN NOTHING-----\n"), "", "parse SSH private key"},
		{"no known_hosts", filepath.Join(t.TempDir(), "absent"), sshKeyPEM(t, ""), "", "SSH_KNOWN_HOSTS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("SSH_KNOWN_HOSTS", tt.knownHosts)
			_, err := SSHAuth(tt.key, tt.passphrase)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v; want it to mention %q", err, tt.want)
			}
			if tt.passphrase != "" && strings.Contains(err.Error(), tt.passphrase) {
				t.Errorf("error %q contains the passphrase", err)
			}
		})
	}
}
