package wire

import (
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/encoding/gzip"
)

// A compressed message or body may inflate at most maxInflation times its
// compressed size (beyond the first inflationFloor bytes): news text
// compresses 2-4 times, batches of JSON a little more, while a
// decompression bomb inflates a thousandfold, so that a few KB sent would
// cost the server the whole message limit.
const (
	maxInflation   = 100
	inflationFloor = 1 << 20
)

// ErrDecompressionBomb is the error of data that inflates past the bound.
var ErrDecompressionBomb = errors.New("refused as a decompression bomb")

// inflationLimit reads the decoding of the compressed bytes counted by in,
// failing once it has given more than the bound allows.
type inflationLimit struct {
	r   io.Reader
	in  *countingReader
	out int64
}

func (l *inflationLimit) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.out += int64(n)
	if l.out > inflationFloor && l.out > maxInflation*l.in.n {
		return n, fmt.Errorf("the compressed data inflates more than %d times (%d bytes from %d): %w; send it uncompressed", maxInflation, l.out, l.in.n, ErrDecompressionBomb)
	}
	return n, err
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// boundedGzip is grpc-go's gzip compressor with inflationLimit on what it
// decompresses. It replaces the registered one (imported first, so its
// init has run), for every gRPC server and client of the process.
type boundedGzip struct{ encoding.Compressor }

func (c boundedGzip) Decompress(r io.Reader) (io.Reader, error) {
	return BoundedDecompress(r, c.Compressor.Decompress)
}

// BoundedDecompress decompresses what it reads from compressed with open
// (gzip.NewReader, say), failing once the output passes the bound above.
func BoundedDecompress(compressed io.Reader, open func(io.Reader) (io.Reader, error)) (io.Reader, error) {
	in := &countingReader{r: compressed}
	zr, err := open(in)
	if err != nil {
		return nil, err
	}
	return &inflationLimit{r: zr, in: in}, nil
}

func init() {
	encoding.RegisterCompressor(boundedGzip{encoding.GetCompressor(gzip.Name)})
}
