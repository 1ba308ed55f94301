package fetch

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	getter "github.com/hashicorp/go-getter"

	"github.com/slipway-ml/slipway/runners/fetch/internal/source"
)

func TestNonPublicReason(t *testing.T) {
	for _, tc := range []struct {
		addr, want string
	}{
		{"127.0.0.1", "a loopback address"},
		{"::1", "a loopback address"},
		{"::ffff:127.0.0.1", "a loopback address"},
		{"10.1.2.3", "a private address"},
		{"172.16.0.1", "a private address"},
		{"192.168.1.1", "a private address"},
		{"fd00::1", "a private address"},
		{"169.254.169.254", "a link-local address"},
		{"fe80::1", "a link-local address"},
		{"239.1.2.3", "a multicast address"},
		{"0.0.0.0", "an unspecified address"},
		{"::", "an unspecified address"},
		{"100.64.0.1", "a carrier-grade NAT address"},
		{"0.1.2.3", `a "this network" address`},
		{"::7f00:1", "an IPv4-compatible address"},
		{"64:ff9b::a9fe:a9fe", "a NAT64 address"},
		{"2002:7f00:1::", "a 6to4 address"},
		{"255.255.255.255", "a reserved address"},
		{"8.8.8.8", ""},
		{"2606:4700:4700::1111", ""},
	} {
		if got := nonPublicReason(netip.MustParseAddr(tc.addr)); got != tc.want {
			t.Errorf("nonPublicReason(%s) = %q, want %q", tc.addr, got, tc.want)
		}
	}
	if err := guardAddress("tcp", "8.8.8.8:443", nil); err != nil {
		t.Errorf("public address refused: %v", err)
	}
	if err := guardAddress("tcp", "[fe80::1%eth0]:443", nil); err == nil || !strings.Contains(err.Error(), "link-local") {
		t.Errorf("link-local address with zone: %v", err)
	}
}

func TestSourceMatchesGoGetter(t *testing.T) {
	var keys []string
	for k := range getter.LimitedDecompressors(0, 0) {
		keys = append(keys, k)
	}
	got := slices.Clone(source.ArchiveKinds)
	for i := 1; i < len(got); i++ {
		if len(got[i]) > len(got[i-1]) {
			t.Errorf("ArchiveKinds: %q comes after the shorter %q", got[i], got[i-1])
		}
	}
	slices.Sort(keys)
	slices.Sort(got)
	if !slices.Equal(keys, got) {
		t.Errorf("ArchiveKinds = %v, go-getter decompresses %v", got, keys)
	}
	for _, src := range []string{
		"https://h/r.git//data/a.csv?ref=v1",
		"https://h/r//a.csv",
		"https://h/r//d/e/f.csv?ref=x&archive=false",
		"https://h:8443/a/b//c.csv",
	} {
		s, err := source.Parse("git::"+src, nil)
		if err != nil {
			t.Fatalf("parse git::%s: %v", src, err)
		}
		repo, sub := getter.SourceDirSubdir(src)
		if s.GitPath != sub || !strings.HasPrefix(repo, s.GitRepo) {
			t.Errorf("git::%s: repository %q, path %q; go-getter reads %q, %q", src, s.GitRepo, s.GitPath, repo, sub)
		}
	}
}
