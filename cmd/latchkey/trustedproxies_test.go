package main

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

// TestConfigTrustedProxies checks --trusted-proxies from each source, in the one order, and
// its refusal of what is not an address block.
func TestConfigTrustedProxies(t *testing.T) {
	parse := func(t *testing.T, args ...string) *ServeCommand {
		t.Helper()
		c := &ServeCommand{Stdout: io.Discard, Stderr: io.Discard}
		if err := c.parse(args); err != nil {
			t.Fatal(err)
		}
		if err := c.validate(); err != nil {
			t.Fatal(err)
		}
		return c
	}
	check := func(t *testing.T, c *ServeCommand, want, source string) {
		t.Helper()
		if got := c.Limits.TrustedProxies.String(); got != want || c.Ops.sources["trusted-proxies"] != source {
			t.Errorf("trusted-proxies = %q from %q, want %q from %q", got, c.Ops.sources["trusted-proxies"], want, source)
		}
	}
	file := writeFile(t, t.TempDir(), "latchkey.toml", `trusted-proxies = "10.0.0.0/8, 2001:db8::/32"`+"\n")

	t.Run("Default", func(t *testing.T) {
		check(t, parse(t), "", "")
	})
	t.Run("File", func(t *testing.T) {
		check(t, parse(t, "--config", file), "10.0.0.0/8,2001:db8::/32", "file")
	})
	t.Run("Environment", func(t *testing.T) {
		t.Setenv("LATCHKEY_TRUSTED_PROXIES", "192.0.2.0/24,127.0.0.1")
		check(t, parse(t, "--config", file), "192.0.2.0/24,127.0.0.1/32", "LATCHKEY_TRUSTED_PROXIES")
	})
	t.Run("Flag", func(t *testing.T) {
		t.Setenv("LATCHKEY_TRUSTED_PROXIES", "192.0.2.0/24")
		c := parse(t, "--config", file, "--trusted-proxies", "127.0.0.1/32,::1,::ffff:10.1.0.0/112")
		check(t, c, "127.0.0.1/32,::1/128,10.1.0.0/16", "flag")
		var out bytes.Buffer
		if err := c.printConfig(c.flags, &out); err != nil {
			t.Fatal(err)
		}
		if want := `trusted-proxies = "127.0.0.1/32,::1/128,10.1.0.0/16"  # flag`; !strings.Contains(out.String(), want) {
			t.Errorf("--print-config lacks %s:\n%s", want, out.String())
		}
	})
	t.Run("Invalid", func(t *testing.T) {
		for _, v := range []string{"10.0.0/8", "proxy.internal", "10.0.0.0/33"} {
			var stderr bytes.Buffer
			c := &ServeCommand{Stdout: io.Discard, Stderr: &stderr}
			err := c.parse([]string{"--trusted-proxies", v})
			if err == nil || !strings.Contains(err.Error()+stderr.String(), "trusted-proxies") {
				t.Errorf("--trusted-proxies %s: %v, want an error naming trusted-proxies", v, err)
			}
		}
	})
}
