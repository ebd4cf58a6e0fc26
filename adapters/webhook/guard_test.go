package webhook

import (
	"context"
	"net"
	"net/netip"
	"testing"

	"github.com/tooken/tooken/ports"
)

// fakeResolver answers every name with its addresses and counts lookups.
type fakeResolver map[string][]netip.Addr

func (f fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := f[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func addrs(s ...string) []netip.Addr {
	out := make([]netip.Addr, len(s))
	for i, a := range s {
		out[i] = netip.MustParseAddr(a)
	}
	return out
}

func TestCheckURLRefusesNonPublicTargetsWithoutTheFlag(t *testing.T) {
	r := fakeResolver{
		"hooks.example.com": addrs("93.184.215.14"),
		"sneaky.example":    addrs("93.184.215.14", "127.0.0.1"),
		"metadata.example":  addrs("169.254.169.254"),
		"v6local.example":   addrs("fd00::1"),
	}
	g := &Guard{Resolver: r}
	for _, u := range []string{
		"http://127.0.0.1/hook", "https://127.0.0.1/hook", "https://169.254.169.254/latest/meta-data",
		"https://10.0.0.1/hook", "https://192.168.1.1/", "https://172.16.0.1/", "https://[::1]/",
		"https://[fe80::1]/", "https://[fd00::1]/", "https://0.0.0.0/", "https://[::]/", "https://100.64.0.1/",
		"https://sneaky.example/hook", "https://metadata.example/", "https://v6local.example/",
		"https://unknown.example/", "http://hooks.example.com/hook", "ftp://hooks.example.com/", "not a url",
		"https://[::ffff:127.0.0.1]/",
	} {
		if err := g.CheckURL(context.Background(), u); ports.ErrorCode(err) != ports.EUNPROCESSABLE {
			t.Errorf("CheckURL(%q) = %v, want %s", u, err, ports.EUNPROCESSABLE)
		}
	}
	for _, u := range []string{"https://hooks.example.com/hook", "https://93.184.215.14:8443/x", "https://[2606:4700::1111]/"} {
		if err := g.CheckURL(context.Background(), u); err != nil {
			t.Errorf("CheckURL(%q) = %v, want nil", u, err)
		}
	}
}

func TestCheckURLAllowsPrivateTargetsAndHTTPWithTheFlag(t *testing.T) {
	g := &Guard{AllowPrivate: true, Resolver: fakeResolver{"local.test": addrs("127.0.0.1")}}
	for _, u := range []string{"http://127.0.0.1:8080/hook", "https://10.0.0.1/", "http://local.test/"} {
		if err := g.CheckURL(context.Background(), u); err != nil {
			t.Errorf("CheckURL(%q) = %v, want nil", u, err)
		}
	}
	if err := g.CheckURL(context.Background(), "ftp://127.0.0.1/"); ports.ErrorCode(err) != ports.EUNPROCESSABLE {
		t.Errorf("ftp allowed: %v", err)
	}
}

// Control checks the address actually dialled, so a name that resolved to a public address at
// validation and to loopback at delivery (DNS rebinding) still cannot be reached.
func TestControlRefusesNonPublicAddressesAtConnectTime(t *testing.T) {
	g := &Guard{}
	for _, a := range []string{"127.0.0.1:443", "169.254.169.254:80", "10.0.0.1:443", "[::1]:443", "[fd00::1]:443", "garbage"} {
		if err := g.Control("tcp", a, nil); err == nil {
			t.Errorf("Control(%q) allowed the connection", a)
		}
	}
	if err := g.Control("tcp4", "93.184.215.14:443", nil); err != nil {
		t.Errorf("Control(public) = %v", err)
	}
	if err := (&Guard{AllowPrivate: true}).Control("tcp", "127.0.0.1:8080", nil); err != nil {
		t.Errorf("Control with AllowPrivate = %v", err)
	}
	// Through a real dialer: the connection is refused before any packet is sent.
	d := net.Dialer{Control: g.Control}
	if c, err := d.DialContext(context.Background(), "tcp", "127.0.0.1:1"); err == nil {
		c.Close()
		t.Fatal("dialled loopback")
	}
}
