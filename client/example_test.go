package client_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"slices"
	"time"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
	"github.com/doctagger/doctagger/client"
	"github.com/doctagger/doctagger/server"
)

// startServer runs a server on the embedded rules on a free loopback port
// and returns its gRPC address and a function that stops it.
func startServer() (addr string, stop func()) {
	cfg := server.DefaultConfig()
	cfg.GRPCAddr = "127.0.0.1:0"
	cfg.HTTPAddr = ""
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := server.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Run(ctx); err != nil {
			log.Print(err)
		}
	}()
	<-srv.Ready()
	return srv.GRPCAddr().String(), func() { cancel(); <-done }
}

func Example() {
	addr, stop := startServer()
	defer stop()

	// In production: client.New("dns:///tagger-grpc.doctagger.svc:9090",
	// client.WithTLS(client.TLS{CAFile: "ca.pem"}), client.WithBearerToken(token)).
	c, err := client.New(addr, client.WithTimeout(5*time.Second))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	res, err := c.Tag(context.Background(), client.Document{
		ID:   "vnexpress-1",
		Text: "Doanh nghiệp Việt đầu tư vào trí tuệ nhân tạo và máy bay không người lái.",
	}, nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, tag := range res.GetTags() {
		ev := tag.GetEvidence()[0]
		fmt.Printf("%s (%s) %.2f: %q at bytes %d-%d\n", tag.GetTheme(), tag.GetLabelEn(), tag.GetScore(), ev.GetText(), ev.GetStart(), ev.GetEnd())
	}
	// Output:
	// ai (Artificial intelligence) 0.63: "trí tuệ nhân tạo" at bytes 38-60
	// drones (Drones) 0.63: "máy bay không người lái" at bytes 65-94
}

// TagStream tags a large set of documents over several streams, spread over
// the replicas behind the target, and survives replicas going away.
func ExampleClient_TagStream() {
	addr, stop := startServer()
	defer stop()
	c, err := client.New(addr) // or "host1:9090,host2:9090", or "dns:///headless-service:9090"
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	// Any iter.Seq[client.Document]: here 1,000 generated documents.
	docs := func(yield func(client.Document) bool) {
		for i := range 1000 {
			text := fmt.Sprintf("Tỉnh phát hành trái phiếu xanh, đợt %d.", i)
			if i%2 == 1 {
				text = fmt.Sprintf("Nhà máy chip số %d sản xuất chất bán dẫn.", i)
			}
			if !yield(client.Document{ID: fmt.Sprint("doc-", i), Text: text}) {
				return
			}
		}
	}
	perTheme := map[string]int{}
	failed := 0
	for r := range c.TagStream(context.Background(), docs, client.StreamOptions{
		Tag:     &pb.TagOptions{OmitEvidence: true},
		Streams: 4,   // at least the number of replicas
		Window:  512, // documents in flight over all streams
	}) {
		if r.Err != nil { // a final per-document error
			failed++
			continue
		}
		for _, tag := range r.Tags {
			perTheme[tag.GetTheme()]++
		}
	}
	for _, theme := range slices.Sorted(func(yield func(string) bool) {
		for k := range perTheme {
			if !yield(k) {
				return
			}
		}
	}) {
		fmt.Println(theme, perTheme[theme])
	}
	fmt.Println("failed", failed)
	// Output:
	// green_transition 500
	// semiconductors 500
	// failed 0
}

// TagChannel takes documents from a channel, for producers that are
// goroutines.
func ExampleClient_TagChannel() {
	addr, stop := startServer()
	defer stop()
	c, err := client.New(addr)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	in := make(chan client.Document)
	go func() {
		defer close(in)
		in <- client.Document{ID: "a", Text: "Bệnh viện triển khai bệnh án điện tử."}
		in <- client.Document{ID: "b", Text: "bad \xff text"}
	}()
	results := map[string]client.Result{}
	for r := range c.TagChannel(context.Background(), in, client.StreamOptions{}) {
		results[r.ID] = r
	}
	fmt.Println("a:", results["a"].Tags[0].GetTheme(), results["a"].Err)
	fmt.Println("b failed:", results["b"].Err != nil)
	// Output:
	// a: ehealth <nil>
	// b failed: true
}

func ExampleClient_ListThemes() {
	addr, stop := startServer()
	defer stop()
	c, err := client.New(addr)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	themes, err := c.ListThemes(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	for _, th := range themes.GetThemes() {
		fmt.Printf("%s: %s / %s\n", th.GetId(), th.GetLabelVi(), th.GetLabelEn())
	}
	// Output:
	// ai: Trí tuệ nhân tạo / Artificial intelligence
	// semiconductors: Bán dẫn / Semiconductors
	// ehealth: Y tế số / E-health
	// drones: Thiết bị bay không người lái / Drones
	// green_transition: Chuyển đổi xanh / Green transition
}

func ExampleNew() {
	// Every address behind a DNS name (a Kubernetes headless Service), TLS
	// (client.TLS{CAFile: "ca.pem", CertFile: "client.pem", KeyFile:
	// "client-key.pem"} for a private CA and mutual TLS; the zero value uses
	// the system roots), a bearer token, a 10 s timeout per call and retries
	// of UNAVAILABLE with backoff. New does not connect: the first call does.
	c, err := client.New("dns:///tagger-grpc.doctagger.svc.cluster.local:9090",
		client.WithTLS(client.TLS{}),
		client.WithBearerToken("token"),
		client.WithTimeout(10*time.Second),
		client.WithRetryPolicy(client.RetryPolicy{MaxAttempts: 4, InitialBackoff: 200 * time.Millisecond, MaxBackoff: 3 * time.Second, Multiplier: 2}),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	fmt.Println(c.Target())

	// Or a fixed list of replicas, balanced round-robin.
	list, err := client.New("10.0.0.11:9090,10.0.0.12:9090,10.0.0.13:9090")
	if err != nil {
		log.Fatal(err)
	}
	defer list.Close()
	fmt.Println(list.Target())
	// Output:
	// dns:///tagger-grpc.doctagger.svc.cluster.local:9090
	// 10.0.0.11:9090,10.0.0.12:9090,10.0.0.13:9090
}
