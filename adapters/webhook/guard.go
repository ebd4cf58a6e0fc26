// Package webhook holds the network side of webhooks: the SSRF guard that decides which addresses a
// delivery may reach, checked when a webhook is saved (CheckURL, by resolving its host) and again
// when a delivery connects (Control, on the address actually dialled, which defeats DNS rebinding).
package webhook

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"net/url"
	"syscall"

	"github.com/tooken/tooken/ports"
)

// Resolver looks up a host's addresses (net.DefaultResolver in production).
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Guard implements ports.URLGuard and, through Control, the connect-time check.
type Guard struct {
	// AllowPrivate lets webhooks target loopback and private addresses, over http or https
	// (TOOKEN_WEBHOOK_ALLOW_PRIVATE=true: tests and local development only).
	AllowPrivate bool
	// Resolver resolves hosts; nil means net.DefaultResolver.
	Resolver Resolver
}

var _ ports.URLGuard = (*Guard)(nil)

// ErrForbiddenAddress is returned by Control for an address a webhook may not reach.
var ErrForbiddenAddress = errors.New("webhook: the address is not public")

func refuse(msg string) error {
	return &ports.Error{Code: ports.EUNPROCESSABLE, Message: msg, Details: map[string]string{"url": msg}}
}

// CheckURL returns EUNPROCESSABLE unless rawURL is https (or http when AllowPrivate) and every
// address its host resolves to is public (or AllowPrivate is set). It never connects.
func (g *Guard) CheckURL(ctx context.Context, rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return refuse("url must be an absolute https URL")
	}
	if u.Scheme != "https" && !(g.AllowPrivate && u.Scheme == "http") {
		return refuse("url must use https")
	}
	host := u.Hostname()
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else {
		r := g.Resolver
		if r == nil {
			r = net.DefaultResolver
		}
		addrs, err = r.LookupNetIP(ctx, "ip", host)
		if err != nil || len(addrs) == 0 {
			return refuse("url's host " + host + " does not resolve")
		}
	}
	for _, a := range addrs {
		if !g.allowed(a) {
			return refuse("url must resolve to public addresses only (" + a.Unmap().String() + " is not public)")
		}
	}
	return nil
}

// Control is a net.Dialer Control hook: it refuses to connect to an address that is not public
// (unless AllowPrivate), whatever the host's name resolved to at validation time.
func (g *Guard) Control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !g.allowed(ap.Addr()) {
		return ErrForbiddenAddress
	}
	return nil
}

func (g *Guard) allowed(a netip.Addr) bool {
	return g.AllowPrivate || Public(a)
}

// Public reports whether a is a globally routable unicast address: not loopback, private (RFC 1918,
// unique-local fc00::/7), link-local (169.254.0.0/16 with the cloud metadata address, fe80::/10),
// multicast, unspecified, carrier-grade NAT (100.64.0.0/10) or otherwise reserved.
func Public(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() || !a.IsGlobalUnicast() {
		return false
	}
	for _, p := range reserved {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

var reserved = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("2001:db8::/32"),
}
