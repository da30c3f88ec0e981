// Package corpus opens the files tagctl reads documents from: gold files,
// corpora and NDJSON inputs, plain or gzipped.
package corpus

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
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

// EachLine calls fn for each non-blank line of a JSONL file (.gz allowed),
// with its number from 1.
func EachLine(path string, fn func(n int, line []byte) error) error {
	rc, err := Open(path)
	if err != nil {
		return err
	}
	defer rc.Close()
	sc := bufio.NewScanner(rc)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if err := fn(n, line); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// ID is the "id" of a JSONL line, a JSON object, read without decoding the
// rest of the line: a corpus line is mostly its text, which a caller
// looking documents up by id decodes only for the lines it wants.
func ID(line []byte) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return "", errors.New("not a JSON object")
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return "", err
		}
		if key == "id" {
			var id string
			if err := dec.Decode(&id); err != nil {
				return "", fmt.Errorf("id: %w", err)
			}
			return id, nil
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return "", err
		}
	}
	return "", errors.New("no id")
}
