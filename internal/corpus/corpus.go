// Package corpus opens the files tagctl reads documents from: gold files,
// corpora and NDJSON inputs, plain or gzipped.
package corpus

import (
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"strings"
)

// Open opens a file for reading, decompressing it when its name ends in
// .gz.
func Open(path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if !strings.HasSuffix(strings.ToLower(path), ".gz") {
		return f, nil
	}
	gz, err := gzip.NewReader(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return struct {
		io.Reader
		io.Closer
	}{gz, f}, nil
}
