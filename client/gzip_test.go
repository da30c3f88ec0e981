package client_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
	"github.com/doctagger/doctagger/client"
	"github.com/doctagger/doctagger/client/clienttest"
)

// wireStats is a client stats handler that records, per method, the
// compression of the calls as the client sent them and as the server
// answered (its grpc-encoding header), and the size of the messages before
// and after compression.
type wireStats struct {
	mu      sync.Mutex
	methods map[string]*methodWire
}

type methodWire struct {
	sentEncodings, answeredEncodings map[string]int // "" is none
	sent, sentCompressed             int            // request messages, bytes
	recv, recvCompressed             int            // response messages, bytes
	sentMessages, recvMessages       int
}

type methodKey struct{}

func newWireStats() *wireStats { return &wireStats{methods: map[string]*methodWire{}} }

func (w *wireStats) TagRPC(ctx context.Context, info *stats.RPCTagInfo) context.Context {
	return context.WithValue(ctx, methodKey{}, info.FullMethodName)
}

func (w *wireStats) HandleRPC(ctx context.Context, s stats.RPCStats) {
	name, _ := ctx.Value(methodKey{}).(string)
	w.mu.Lock()
	defer w.mu.Unlock()
	m := w.methods[name]
	if m == nil {
		m = &methodWire{sentEncodings: map[string]int{}, answeredEncodings: map[string]int{}}
		w.methods[name] = m
	}
	switch s := s.(type) {
	case *stats.OutHeader:
		m.sentEncodings[s.Compression]++
	case *stats.InHeader:
		m.answeredEncodings[s.Compression]++
	case *stats.OutPayload:
		m.sentMessages++
		m.sent += s.Length
		m.sentCompressed += s.CompressedLength
	case *stats.InPayload:
		m.recvMessages++
		m.recv += s.Length
		m.recvCompressed += s.CompressedLength
	}
}

func (w *wireStats) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }
func (w *wireStats) HandleConn(context.Context, stats.ConnStats)                       {}

func (w *wireStats) method(name string) methodWire {
	w.mu.Lock()
	defer w.mu.Unlock()
	if m := w.methods[name]; m != nil {
		return *m
	}
	return methodWire{}
}

// checkWire checks the calls of one method: each went with encoding want
// ("" is none) and the server answered in the same, and the requests (of
// compressible text) shrank on the wire by at least minRatio, or not at all
// without compression.
func checkWire(t *testing.T, m methodWire, name, want string, calls int, minRatio float64) {
	t.Helper()
	if m.sentMessages == 0 || m.recvMessages == 0 {
		t.Fatalf("%s: no message recorded (%+v)", name, m)
	}
	if m.sentEncodings[want] != calls || len(m.sentEncodings) != 1 {
		t.Errorf("%s: calls sent with encodings %v, want %d with %q", name, m.sentEncodings, calls, want)
	}
	if m.answeredEncodings[want] != calls || len(m.answeredEncodings) != 1 {
		t.Errorf("%s: the server answered with encodings %v, want %d with %q", name, m.answeredEncodings, calls, want)
	}
	ratio := float64(m.sent) / float64(m.sentCompressed)
	t.Logf("%s (%q): %d requests, %d bytes, %d on the wire (%.1fx); %d responses, %d bytes, %d on the wire",
		name, want, m.sentMessages, m.sent, m.sentCompressed, ratio, m.recvMessages, m.recv, m.recvCompressed)
	if want == "" {
		if m.sentCompressed != m.sent || m.recvCompressed != m.recv {
			t.Errorf("%s: compressed without WithGzip: %+v", name, m)
		}
		return
	}
	if ratio < minRatio {
		t.Errorf("%s: requests of %d bytes took %d on the wire (%.1fx), want at least %.1fx", name, m.sent, m.sentCompressed, ratio, minRatio)
	}
	if m.recvCompressed == m.recv {
		t.Errorf("%s: responses of %d bytes took as many on the wire: not compressed", name, m.recv)
	}
}

const (
	tagMethod    = "/tagger.v1.TaggerService/TagDocument"
	streamMethod = "/tagger.v1.TaggerService/StreamTagDocuments"
	batchMethod  = "/tagger.v1.TaggerService/BatchTagDocuments"
)

// TestWithGzip: with WithGzip, Tag, TagBatch and TagStream go compressed
// with gzip (the grpc-encoding the client sends, and the size of the
// messages on the wire) and the server answers in gzip; the results are
// those of uncompressed calls. Without it, nothing is compressed.
func TestWithGzip(t *testing.T) {
	srv := clienttest.Start(t, nil)
	// Documents of a few KB of Vietnamese text, which gzip shrinks.
	long := func(i int) client.Document {
		d, _ := doc(i)
		var b strings.Builder
		for j := range 40 {
			s, _ := clienttest.Sentence(i + j*5) // the same theme as d
			b.WriteString(s + " ")
		}
		d.Text = b.String()
		return d
	}
	const n = 300
	for _, gz := range []bool{true, false} {
		wire := newWireStats()
		opts := []client.Option{client.WithTimeout(10 * time.Second), client.WithDialOptions(grpc.WithStatsHandler(wire))}
		want := ""
		if gz {
			opts = append(opts, client.WithGzip())
			want = "gzip"
		}
		c := newClient(t, srv.Addr(), opts...)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)

		for i := range 3 {
			d := long(i)
			res, err := c.Tag(ctx, d, nil)
			if _, theme := doc(i); err != nil || res.GetDocumentId() != d.ID || len(res.GetTags()) != 1 || res.GetTags()[0].GetTheme() != theme {
				t.Fatalf("gzip %v: Tag: %v, %v", gz, res, err)
			}
		}
		batch := []client.Document{long(3), long(4)}
		if res, err := c.TagBatch(ctx, batch, nil); err != nil || len(res) != 2 || res[1].GetDocumentId() != batch[1].ID || len(res[1].GetTags()) != 1 {
			t.Fatalf("gzip %v: TagBatch: %v, %v", gz, res, err)
		}
		input := func(yield func(client.Document) bool) {
			for i := range n {
				if !yield(long(i)) {
					return
				}
			}
		}
		var st client.StreamStats
		got := 0
		for r := range c.TagStream(ctx, input, client.StreamOptions{Streams: 2, Stats: &st}) {
			if _, theme := doc(int(r.Index)); r.Err != nil || len(r.Tags) != 1 || r.Tags[0].GetTheme() != theme {
				t.Fatalf("gzip %v: TagStream: %+v", gz, r)
			}
			got++
		}
		cancel()
		if got != n {
			t.Fatalf("gzip %v: TagStream: %d results for %d documents", gz, got, n)
		}

		checkWire(t, wire.method(tagMethod), "Tag", want, 3, 3)
		checkWire(t, wire.method(batchMethod), "TagBatch", want, 1, 3)
		stream := wire.method(streamMethod)
		checkWire(t, stream, "TagStream", want, int(st.Opened.Load()), 3)
		if stream.sentMessages != n || stream.recvMessages != n {
			t.Errorf("gzip %v: TagStream: %d requests and %d responses recorded, want %d", gz, stream.sentMessages, stream.recvMessages, n)
		}
	}
}

// TestWithGzipMessageLimit: the server's message limit holds for messages
// as decompressed, and its error then reads "received message after
// decompression larger than max M": the client still learns the limit from
// it. Tag fails with RESOURCE_EXHAUSTED, TagBatch splits a batch over the
// limit, and TagStream fails an oversize document alone, without charging
// the others an attempt.
func TestWithGzipMessageLimit(t *testing.T) {
	srv := startSmallServer(t)
	c := newClient(t, srv.Addr(), client.WithGzip(), client.WithTimeout(10*time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// 100 KB that gzip makes a few hundred bytes: under the limit on the
	// wire, over it once decompressed.
	big := client.Document{ID: "big", Text: strings.Repeat("x", 100<<10)}
	if _, err := c.Tag(ctx, big, nil); status.Code(err) != codes.ResourceExhausted || !strings.Contains(err.Error(), strconv.Itoa(serverMsgLimit)) {
		t.Fatalf("Tag of %d bytes, server limit %d: %v", len(big.Text), serverMsgLimit, err)
	}

	// Twelve documents of 20 KB: together over the limit.
	var mid []client.Document
	for i := range 12 {
		d, _ := doc(i)
		d.Text = d.Text + " " + strings.Repeat("đoạn văn dài ", 20<<10/len("đoạn văn dài "))
		mid = append(mid, d)
	}
	res, err := c.TagBatch(ctx, mid, nil)
	if err != nil || len(res) != len(mid) {
		t.Fatalf("TagBatch of %d documents of 20 KB: %d results, %v", len(mid), len(res), err)
	}
	for i, r := range res {
		if r.GetDocumentId() != mid[i].ID || r.GetError() != nil || r.GetWords() < 3000 {
			t.Errorf("result %d: %v", i, r)
		}
	}

	const n, bad = 150, 60
	input := func(yield func(client.Document) bool) {
		for i := range n {
			d, _ := doc(i)
			if i == bad {
				d.Text = big.Text
			}
			if !yield(d) {
				return
			}
		}
	}
	got := 0
	for r := range c.TagStream(ctx, input, client.StreamOptions{Tag: &pb.TagOptions{OmitEvidence: true}, Streams: 2, Window: 32}) {
		got++
		if r.Index == bad {
			checkOversize(t, r)
			continue
		}
		if r.Err != nil || r.Attempts != 1 {
			t.Errorf("%s: %d attempts, %v", r.ID, r.Attempts, r.Err)
		}
	}
	if got != n {
		t.Fatalf("TagStream: %d results for %d documents", got, n)
	}
}
