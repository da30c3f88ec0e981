// Command loadclient is the Go load generator of scripts/load.sh.
//
// -mode stream streams one document (from a file) N times over a single
// StreamTagDocuments stream, as fast as the server takes them, and reports
// documents per second and, with -pid, the server's resident memory as the
// stream goes on. -mode unary and -mode health run TagDocument or the
// health Check from -c goroutines over -conns connections for -d and report
// requests per second: a second opinion next to ghz, whose own per-call
// cost (dynamic messages) is high on a 2-core machine.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"runtime/pprof"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
	"github.com/doctagger/doctagger/tagger"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9090", "taggerd gRPC address (loopback)")
	file := flag.String("file", "scripts/testdata/doc-2kb.txt", "document text")
	n := flag.Int("n", 100000, "documents to stream")
	pid := flag.Int("pid", 0, "server process id, to sample its resident memory")
	timeout := flag.Duration("timeout", 5*time.Minute, "give up after this long")
	omit := flag.Bool("omit-evidence", false, "ask for results without evidence")
	mode := flag.String("mode", "stream", "stream, unary, health, jsonstring (print the file as a JSON string), or article (print an article of the -file corpus cut to -bytes)")
	articleBytes := flag.Int("bytes", 2000, "article: cut the article to at most this many bytes (at a rune boundary)")
	skip := flag.Int("skip", 0, "article: skip this many fitting articles first")
	wantTags := flag.Int("tags", -1, "article: take only an article whose cut text gets this many tags from the embedded rules (-1: any)")
	conc := flag.Int("c", 50, "unary/health: concurrent callers")
	conns := flag.Int("conns", 4, "unary/health: connections")
	dur := flag.Duration("d", 10*time.Second, "unary/health: duration")
	cpuprofile := flag.String("cpuprofile", "", "write the load client's own CPU profile to this file")
	flag.Parse()

	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}

	if *mode == "article" {
		text, err := article(*file, *articleBytes, *skip, *wantTags)
		if err != nil {
			log.Fatal(err)
		}
		os.Stdout.WriteString(text)
		return
	}
	text, err := os.ReadFile(*file)
	if err != nil {
		log.Fatal(err)
	}
	if *mode == "bigbatch" { // a REST batch body of about -bytes bytes (scripts/restmem.sh)
		bigBatch(os.Stdout, string(text), *articleBytes)
		return
	}
	if *mode == "jsonstring" { // the file as a JSON string, for the REST bodies
		b, _ := json.Marshal(string(text))
		os.Stdout.Write(b)
		return
	}
	if *mode != "stream" {
		unary(*addr, *mode, text, *conc, *conns, *dur, *omit)
		return
	}
	conn, err := grpc.NewClient(*addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	stream, err := pb.NewTaggerServiceClient(conn).StreamTagDocuments(ctx)
	if err != nil {
		log.Fatal(err)
	}
	req := &pb.StreamTagDocumentsRequest{
		Document: &pb.Document{Id: "load", Text: string(text)},
		Options:  &pb.TagOptions{OmitEvidence: *omit},
	}
	start := time.Now()
	go func() {
		for i := 0; i < *n; i++ {
			if err := stream.Send(req); err != nil {
				return
			}
			if i == 0 {
				req = &pb.StreamTagDocumentsRequest{Document: req.Document} // options stick
			}
		}
		stream.CloseSend()
	}()
	var got, tags, failed int
	var rss []string
	step := max(*n/10, 1)
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			log.Fatalf("after %d results: %v", got, err)
		}
		got++
		tags += len(resp.Result.Tags)
		if resp.Result.Error != nil {
			failed++
		}
		if *pid > 0 && got%step == 0 {
			rss = append(rss, residentMemory(*pid))
		}
	}
	d := time.Since(start)
	fmt.Printf("stream: %d documents of %d bytes in %.2fs = %.0f documents/s (%.1f MB/s), %d tags, %d failed\n",
		got, len(text), d.Seconds(), float64(got)/d.Seconds(), float64(got*len(text))/d.Seconds()/1e6, tags, failed)
	if len(rss) > 0 {
		fmt.Printf("server RSS every %d documents: %s\n", step, strings.Join(rss, " "))
	}
	if got != *n || failed > 0 {
		os.Exit(1)
	}
}

func unary(addr, mode string, text []byte, conc, conns int, d time.Duration, omit bool) {
	clients := make([]*grpc.ClientConn, conns)
	for i := range clients {
		c, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			log.Fatal(err)
		}
		defer c.Close()
		clients[i] = c
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	counts := make([]int, conc)
	errs := make([]error, conc)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range conc {
		wg.Go(func() {
			conn := clients[w%conns]
			tc := pb.NewTaggerServiceClient(conn)
			hc := healthpb.NewHealthClient(conn)
			req := &pb.TagDocumentRequest{Document: &pb.Document{Id: "load", Text: string(text)}, Options: &pb.TagOptions{OmitEvidence: omit}}
			for ctx.Err() == nil {
				var err error
				if mode == "health" {
					_, err = hc.Check(ctx, &healthpb.HealthCheckRequest{})
				} else {
					_, err = tc.TagDocument(ctx, req)
				}
				if err != nil {
					if ctx.Err() == nil && time.Since(start) < d-100*time.Millisecond {
						errs[w] = err
					}
					return
				}
				counts[w]++
			}
		})
	}
	wg.Wait()
	el := time.Since(start)
	total := 0
	for _, c := range counts {
		total += c
	}
	if err := errors.Join(errs...); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: %d calls in %.2fs = %.0f requests/s (%d callers, %d connections)\n", mode, total, el.Seconds(), float64(total)/el.Seconds(), conc, conns)
}

// article returns the text of an article of a JSON Lines corpus (one
// {"text": ...} a line) longer than n bytes, cut to at most n bytes at a
// rune boundary: a real news article of the load test's size. With tags
// >= 0 it takes only an article whose cut text gets that many tags.
func article(path string, n, skip, tags int) (string, error) {
	var tg *tagger.Tagger
	if tags >= 0 {
		rs, err := tagger.DefaultRuleset()
		if err != nil {
			return "", err
		}
		if tg, err = tagger.Compile(rs); err != nil {
			return "", err
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var d struct{ Text string }
		if json.Unmarshal(sc.Bytes(), &d) != nil || len(d.Text) <= n {
			continue
		}
		cut := n
		for cut > 0 && !utf8.RuneStart(d.Text[cut]) {
			cut--
		}
		text := d.Text[:cut]
		if tg != nil {
			if res, err := tg.Tag(text, tagger.Options{}); err != nil || len(res.Tags) != tags {
				continue
			}
		}
		if skip > 0 {
			skip--
			continue
		}
		return text, nil
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	return "", fmt.Errorf("%s: no article longer than %d bytes (with %d tags)", path, n, tags)
}

func residentMemory(pid int) string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			var kb int
			fmt.Sscanf(strings.TrimPrefix(line, "VmRSS:"), "%d", &kb)
			return fmt.Sprintf("%dMB", kb/1024)
		}
	}
	return "?"
}

// bigBatch writes a BatchTagDocumentsRequest as JSON of about size bytes:
// 250 documents, each a window of the text (from a .jsonl corpus, its
// articles' texts one after the other: news that compresses as news does).
func bigBatch(w io.Writer, text string, size int) {
	const docs = 250
	per := (size - 64) / docs
	if strings.HasSuffix(os.Args[len(os.Args)-1], ".jsonl") || strings.HasPrefix(text, "{") {
		var all strings.Builder
		sc := bufio.NewScanner(strings.NewReader(text))
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			var d struct{ Text string }
			if json.Unmarshal(sc.Bytes(), &d) == nil {
				all.WriteString(d.Text + "\n")
			}
		}
		text = all.String()
	}
	for len(text) < per*2 {
		text += text
	}
	enc := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	var b strings.Builder
	b.WriteString(`{"documents":[`)
	at := 0
	for i := range docs {
		if i > 0 {
			b.WriteByte(',')
		}
		head := fmt.Sprintf(`{"id":"d%d","text":`, i)
		// Take about per bytes of text whose JSON fits per.
		n := per - len(head) - 2
		for {
			if at+n > len(text) {
				at = 0
			}
			end := at + n
			for end > at && !utf8.RuneStart(text[end]) {
				end--
			}
			q := enc(text[at:end])
			if len(head)+len(q)+1 <= per || n < 16 {
				b.WriteString(head + q + "}")
				at = end
				break
			}
			n -= (len(head) + len(q) + 1 - per) + 8
		}
	}
	b.WriteString(`]}`)
	io.WriteString(w, b.String())
}
