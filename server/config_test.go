package server

import (
	"strings"
	"testing"
)

func TestConfigValidation(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*Config)
		want   string // "" for valid
	}{
		{"defaults", func(*Config) {}, ""},
		{"document larger than a message", func(c *Config) { c.MaxDocumentBytes, c.MaxMessageBytes = 1<<20, 1<<20 }, "must be at least max document bytes"},
		{"empty token", func(c *Config) { c.AuthTokens = []string{"good", " "} }, "auth token 2 is empty"},
		{"negative limit", func(c *Config) { c.MaxBatchDocuments = 0 }, "max batch documents must be positive"},
		{"key without cert", func(c *Config) { c.TLSKeyFile = "k.pem" }, "both a certificate and a key"},
	}
	for _, c := range cases {
		cfg := DefaultConfig()
		c.mutate(&cfg)
		err := cfg.validate()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: unexpected error %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: error %v, want it to say %q", c.name, err, c.want)
		}
	}
	if _, err := New(Config{GRPCAddr: ":0", MaxDocumentBytes: 10, MaxBatchDocuments: 1, MaxMessageBytes: 10, StreamMaxInFlight: 1}); err == nil || !strings.Contains(err.Error(), "invalid configuration") {
		t.Errorf("New with a bad config: %v", err)
	}
}
