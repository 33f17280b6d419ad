package app

import (
	"slices"
	"testing"
)

func TestCheckDomains(t *testing.T) {
	ok := []struct {
		in   []string
		want []string
	}{
		{[]string{"api.example.com", "https://api.example.com", "HTTPS://API.example.com:443/"}, []string{"https://api.example.com"}},
		{[]string{"https://pay.example.com:8443", "*.cdn.example.com"}, []string{"https://*.cdn.example.com", "https://pay.example.com:8443"}},
		// Loopback http origins, for a developer's own server on their machine.
		{[]string{"http://localhost:8090", "http://127.0.0.1:8080/", "http://[::1]:3000", "http://localhost"},
			[]string{"http://127.0.0.1:8080", "http://[::1]:3000", "http://localhost", "http://localhost:8090"}},
	}
	for _, c := range ok {
		got, err := CheckDomains(c.in)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("CheckDomains(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{
		"http://api.example.com",     // plain http to the internet
		"http://192.168.1.10:8080",   // private, but not this machine
		"http://localhost.evil.com",  // not loopback
		"http://127.0.0.1:8080/pay",  // a path
		"http://user@localhost:8080", // credentials
		"http://localhost:0",         // no such port
		"http://localhost:99999",     // no such port
		"http://localhost:8080?x=1",  // a query
		"ftp://localhost",            // another scheme
		"localhost:8080",             // no scheme: would be https://localhost, not a domain name
	} {
		if got, err := CheckDomains([]string{bad}); err == nil {
			t.Errorf("CheckDomains(%q) = %q, want an error", bad, got)
		}
	}
}
