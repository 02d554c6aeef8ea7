package httpapi

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientIP is the request's client address, which the limits, the audit log and the access
// log use. It is the TCP peer's address, unless the peer is one of the trusted proxies: then
// it is the rightmost address of X-Forwarded-For (or, without one, of Forwarded) that is not
// a trusted proxy, since each trusted proxy appends the address it received the request
// from and anything to the left of the first untrusted one may be made up. A header that
// cannot be read as addresses (including Forwarded's "unknown" and obfuscated identifiers)
// leaves the peer's address. From any other peer both headers are ignored: anyone can send
// them.
func (s *Server) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !s.trusted(peer) {
		return host
	}
	var hops []string
	if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
		for _, v := range xff {
			hops = append(hops, strings.Split(v, ",")...)
		}
	} else if fwd := r.Header.Values("Forwarded"); len(fwd) > 0 {
		var ok bool
		if hops, ok = forwardedFor(fwd); !ok {
			return host
		}
	} else {
		return host
	}
	var addr netip.Addr
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseHop(hops[i])
		if !ok {
			return host
		}
		addr = a
		if !s.trusted(a) {
			break
		}
	}
	// Every hop trusted: the leftmost is the client.
	return addr.String()
}

// trusted reports whether addr is one of the trusted proxies.
func (s *Server) trusted(addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, p := range s.trustedProxies {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// parseHop reads one hop of X-Forwarded-For or a Forwarded "for" value: an address, with or
// without a port, IPv6 in brackets or not.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone(""), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil && a.Is6() {
			return a.WithZone(""), true
		}
	}
	return netip.Addr{}, false
}

// forwardedFor returns the "for" value of each element of Forwarded headers (RFC 7239), in
// order, unquoted; false when an element has none or cannot be read.
func forwardedFor(headers []string) ([]string, bool) {
	var fors []string
	for _, h := range headers {
		for _, element := range strings.Split(h, ",") {
			found := false
			for _, pair := range strings.Split(element, ";") {
				key, value, ok := strings.Cut(strings.TrimSpace(pair), "=")
				if !ok {
					return nil, false
				}
				if !strings.EqualFold(key, "for") {
					continue
				}
				if found {
					return nil, false
				}
				found = true
				if strings.HasPrefix(value, `"`) {
					if len(value) < 2 || !strings.HasSuffix(value, `"`) || strings.Contains(value, `\`) {
						return nil, false
					}
					value = value[1 : len(value)-1]
				}
				fors = append(fors, value)
			}
			if !found {
				return nil, false
			}
		}
	}
	return fors, true
}
