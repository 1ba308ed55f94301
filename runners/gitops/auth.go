package gitops

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"golang.org/x/crypto/ssh"
)

// tokenUser is the user name sent with a token; GitHub, GitLab and Gitea
// accept any name with a token, and GitHub documents this one.
const tokenUser = "x-access-token"

// TokenAuth returns HTTP basic authentication with the user
// "x-access-token" and token as the password, for https:// remotes.
func TokenAuth(token string) transport.AuthMethod {
	return &githttp.BasicAuth{Username: tokenUser, Password: token}
}

// SSHAuth returns public-key authentication for ssh:// remotes from a PEM
// private key, decrypted with passphrase when it is encrypted. Host keys are
// checked against the files listed in SSH_KNOWN_HOSTS or, when that is unset,
// ~/.ssh/known_hosts and /etc/ssh/ssh_known_hosts; unknown hosts are refused.
// The user is "git" unless the URL names one.
func SSHAuth(privateKeyPEM []byte, passphrase string) (transport.AuthMethod, error) {
	signer, err := ssh.ParsePrivateKey(privateKeyPEM)
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		if passphrase == "" {
			return nil, errors.New("parse SSH private key: the key is encrypted and no passphrase was given")
		}
		signer, err = ssh.ParsePrivateKeyWithPassphrase(privateKeyPEM, []byte(passphrase))
	}
	if err != nil {
		return nil, fmt.Errorf("parse SSH private key: %w", err)
	}
	db, err := gitssh.NewKnownHostsDb()
	if err != nil {
		return nil, fmt.Errorf("load SSH known hosts: %w (list known_hosts files in SSH_KNOWN_HOSTS or create ~/.ssh/known_hosts)", err)
	}
	return &sshKeyAuth{
		PublicKeys: &gitssh.PublicKeys{
			User:                  "git",
			Signer:                signer,
			HostKeyCallbackHelper: gitssh.HostKeyCallbackHelper{HostKeyCallback: db.HostKeyCallback()},
		},
		algorithms: db.HostKeyAlgorithms,
	}, nil
}

// sshKeyAuth is public-key authentication that offers, for the host being
// dialled, the host key algorithms its known_hosts entries use, so that a
// host known by one key type is not refused for presenting another.
type sshKeyAuth struct {
	*gitssh.PublicKeys
	algorithms func(hostWithPort string) []string
	hostPort   string
}

// ClientConfig implements gitssh.AuthMethod.
func (a *sshKeyAuth) ClientConfig() (*ssh.ClientConfig, error) {
	cfg, err := a.PublicKeys.ClientConfig()
	if err != nil {
		return nil, err
	}
	if a.hostPort != "" {
		cfg.HostKeyAlgorithms = a.algorithms(a.hostPort)
	}
	return cfg, nil
}

// forURL returns a copy of a set up for the host and user of an ssh:// URL.
func (a *sshKeyAuth) forURL(u *url.URL) *sshKeyAuth {
	pk := *a.PublicKeys
	if u.User != nil && u.User.Username() != "" {
		pk.User = u.User.Username()
	}
	port := u.Port()
	if port == "" {
		port = "22"
	}
	return &sshKeyAuth{PublicKeys: &pk, algorithms: a.algorithms, hostPort: net.JoinHostPort(u.Hostname(), port)}
}

// authFor returns the authentication to use for rawURL.
func authFor(auth transport.AuthMethod, rawURL string) transport.AuthMethod {
	a, ok := auth.(*sshKeyAuth)
	if !ok {
		return auth
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "ssh" {
		return auth
	}
	return a.forURL(u)
}

// redactor masks the secrets of a target in error messages.
type redactor struct {
	secrets []string
}

func newRedactor(t Target) redactor {
	var r redactor
	// add masks secret, its URL escapes and the basic authorization
	// credentials pair that carries it.
	add := func(secret, pair string) {
		if secret == "" {
			return
		}
		r.secrets = append(r.secrets,
			base64.StdEncoding.EncodeToString([]byte(pair)),
			secret,
			url.QueryEscape(secret),
			url.PathEscape(secret),
		)
	}
	if b, ok := t.Auth.(*githttp.BasicAuth); ok && b != nil {
		add(b.Password, b.Username+":"+b.Password)
	}
	if b, ok := t.Auth.(*githttp.TokenAuth); ok && b != nil {
		add(b.Token, b.Token)
	}
	if u, err := url.Parse(t.URL); err == nil && u.User != nil {
		if p, ok := u.User.Password(); ok {
			add(p, u.User.Username()+":"+p)
		} else if u.Scheme != "ssh" {
			add(u.User.Username(), u.User.Username()+":")
		}
	}
	return r
}

// wrap returns err with every secret in its message replaced by "xxxxx".
func (r redactor) wrap(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	for _, s := range r.secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "xxxxx")
		}
	}
	if msg == err.Error() {
		return err
	}
	return &redactedError{msg: msg, err: err}
}

// redactedError carries a masked message. It matches the errors of the
// original chain with errors.Is but does not unwrap to them, so that the
// unmasked message cannot be reached by unwrapping.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }

func (e *redactedError) Is(target error) bool { return errors.Is(e.err, target) }
