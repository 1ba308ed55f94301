package fetch

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// blockedAddrError reports a connection refused because its address is
// not public.
type blockedAddrError struct {
	addr   netip.Addr
	reason string
}

func (e *blockedAddrError) Error() string {
	return fmt.Sprintf("refused to connect to %s: it is %s, and private networks are not allowed", e.addr, e.reason)
}

// redirectError reports a redirect the Fetcher does not follow.
type redirectError struct {
	to     string
	reason string
}

func (e *redirectError) Error() string {
	return fmt.Sprintf("refused redirect to %s: %s", e.to, e.reason)
}

// maxRedirects is how many redirects one request may follow.
const maxRedirects = 10

// nonPublic lists address ranges that are not on the public internet, with
// what they are. Loopback, private, link-local, multicast and unspecified
// addresses are checked with netip's methods before this list.
var nonPublic = []struct {
	prefix netip.Prefix
	what   string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), `a "this network" address`},
	{netip.MustParsePrefix("100.64.0.0/10"), "a carrier-grade NAT address"},
	{netip.MustParsePrefix("192.0.0.0/24"), "an IETF protocol address"},
	{netip.MustParsePrefix("192.0.2.0/24"), "a documentation address"},
	{netip.MustParsePrefix("198.18.0.0/15"), "a benchmarking address"},
	{netip.MustParsePrefix("198.51.100.0/24"), "a documentation address"},
	{netip.MustParsePrefix("203.0.113.0/24"), "a documentation address"},
	{netip.MustParsePrefix("240.0.0.0/4"), "a reserved address"},
	{netip.MustParsePrefix("::/96"), "an IPv4-compatible address"},
	{netip.MustParsePrefix("64:ff9b::/96"), "a NAT64 address"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "a NAT64 address"},
	{netip.MustParsePrefix("100::/64"), "a discard address"},
	{netip.MustParsePrefix("2001::/23"), "an IETF protocol address"},
	{netip.MustParsePrefix("2001:db8::/32"), "a documentation address"},
	{netip.MustParsePrefix("2002::/16"), "a 6to4 address"},
}

// nonPublicReason says why a is not a public address, or "" if it is.
func nonPublicReason(a netip.Addr) string {
	a = a.Unmap().WithZone("")
	switch {
	case !a.IsValid():
		return "not a valid address"
	case a.IsLoopback():
		return "a loopback address"
	case a.IsPrivate():
		return "a private address"
	case a.IsLinkLocalUnicast(), a.IsLinkLocalMulticast():
		return "a link-local address"
	case a.IsMulticast():
		return "a multicast address"
	case a.IsUnspecified():
		return "an unspecified address"
	}
	for _, p := range nonPublic {
		if p.prefix.Contains(a) {
			return p.what
		}
	}
	return ""
}

// guardAddress is a net.Dialer Control function: it runs after DNS
// resolution, on the address actually dialled, and refuses non-public ones.
func guardAddress(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("dial %s: %w", address, err)
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("dial %s: address is not an IP: %w", address, err)
	}
	if why := nonPublicReason(a); why != "" {
		return &blockedAddrError{addr: a.Unmap().WithZone(""), reason: why}
	}
	return nil
}

// checkRedirect follows only https redirects, at most maxRedirects.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return &redirectError{to: req.URL.Redacted(), reason: fmt.Sprintf("more than %d redirects", maxRedirects)}
	}
	if req.URL.Scheme != "https" {
		return &redirectError{to: req.URL.Redacted(), reason: "only https redirects are followed"}
	}
	return nil
}

// newHTTPClient builds the client for https sources: base's transport (or
// a default one) cloned, with a dialer that refuses non-public addresses
// unless private is true, no proxy, no transparent decompression (the
// digest is of the bytes served) and the https-only redirect policy.
func newHTTPClient(base *http.Client, tlsConf *tls.Config, private bool) *http.Client {
	var t *http.Transport
	if base != nil && base.Transport != nil {
		t = base.Transport.(*http.Transport).Clone()
	} else {
		t = &http.Transport{
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          100,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
		}
	}
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	if !private {
		d.Control = guardAddress
	}
	t.Proxy = nil
	t.OnProxyConnectResponse = nil
	t.DialContext = d.DialContext
	// The deprecated Dial and DialTLS hooks are still honoured by
	// net/http; they are cleared so every connection goes through d.
	t.Dial = nil
	t.DialTLS = nil
	t.DialTLSContext = nil
	t.DisableCompression = true
	t.ResponseHeaderTimeout = time.Minute
	if tlsConf != nil {
		t.TLSClientConfig = tlsConf.Clone()
	}
	if t.TLSClientConfig == nil {
		t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: t, CheckRedirect: checkRedirect}
}
