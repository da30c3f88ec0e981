// Package wiretest helps tests put invalid UTF-8 on the wire, which the Go
// protobuf encoder refuses to write but callers in other languages can send.
package wiretest

import (
	"bytes"
	"testing"

	"google.golang.org/protobuf/proto"
)

// Corrupt marshals m and replaces the bytes of marker (a string in m) by
// the same number of bytes, the second of them 0xff: invalid UTF-8 at a
// known offset.
func Corrupt(t testing.TB, m proto.Message, marker string) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	bad := []byte(marker)
	bad[1] = 0xff
	if !bytes.Contains(b, []byte(marker)) {
		t.Fatalf("marker %q not in the message", marker)
	}
	return bytes.Replace(b, []byte(marker), bad, 1)
}
