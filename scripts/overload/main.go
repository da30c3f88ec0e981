// Command overload drives taggerd past what it can take, on loopback, for a
// bounded time, and reports what a pod's operator needs to know: the
// server's peak memory, the codes callers got, the latency of the calls
// that succeeded, and how soon the server answers normally once the load
// stops (scripts/overload.sh runs it against a taggerd with the deploy/
// settings).
//
// The load: -unary callers calling TagDocument in a loop, plus -streams
// streams that send documents and never read a result (fixed flow-control
// windows, so they hold what they can).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9090", "taggerd gRPC address (loopback)")
	file := flag.String("file", "scripts/testdata/doc-2kb.txt", "document text")
	unary := flag.Int("unary", 512, "concurrent unary callers")
	streams := flag.Int("streams", 1000, "streams that never read")
	conns := flag.Int("conns", 8, "connections for each kind of load")
	dur := flag.Duration("d", 20*time.Second, "how long the load lasts")
	pid := flag.Int("pid", 0, "server process id, to sample its memory")
	flag.Parse()
	if !strings.HasPrefix(*addr, "127.") && !strings.HasPrefix(*addr, "localhost:") && !strings.HasPrefix(*addr, "[::1]:") {
		log.Fatalf("refusing %s: loopback only", *addr)
	}
	text, err := os.ReadFile(*file)
	if err != nil {
		log.Fatal(err)
	}
	doc := &pb.Document{Id: "overload", Text: string(text)}

	dial := func(fixedWindows bool) *grpc.ClientConn {
		opts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
		if fixedWindows { // no BDP growth: a stream that never reads stays stuck
			opts = append(opts, grpc.WithInitialWindowSize(64<<10), grpc.WithInitialConnWindowSize(1<<20))
		}
		c, err := grpc.NewClient(*addr, opts...)
		if err != nil {
			log.Fatal(err)
		}
		return c
	}

	var rssMu sync.Mutex
	peakRSS := 0
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			if kb := statusKB(*pid, "VmRSS"); kb > 0 {
				rssMu.Lock()
				peakRSS = max(peakRSS, kb)
				rssMu.Unlock()
			}
			select {
			case <-stopSampling:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), *dur)
	defer cancel()
	var mu sync.Mutex
	unaryCodes := map[codes.Code]int{}
	streamCodes := map[string]int{}
	var latencies []time.Duration
	var wg sync.WaitGroup

	// Streams that never read.
	streamConns := make([]*grpc.ClientConn, *conns)
	for i := range streamConns {
		streamConns[i] = dial(true)
	}
	sent := 0
	for i := range *streams {
		wg.Go(func() {
			s, err := pb.NewTaggerServiceClient(streamConns[i%len(streamConns)]).StreamTagDocuments(ctx)
			n := 0
			for err == nil && ctx.Err() == nil {
				err = s.Send(&pb.StreamTagDocumentsRequest{Document: doc})
				n++
			}
			if err == nil || ctx.Err() != nil {
				err = ctx.Err()
			}
			if errors.Is(err, context.DeadlineExceeded) {
				err = nil // still open when the load stopped
			}
			if err != nil && s != nil {
				_, err = s.Recv() // the status that ended it
			}
			key := "open until the end"
			if err != nil {
				key = status.Code(err).String()
				if r := pb.ReasonOf(err); r != pb.ErrorReason_ERROR_REASON_UNSPECIFIED {
					key += " " + r.String()
				}
			}
			mu.Lock()
			streamCodes[key]++
			sent += n
			mu.Unlock()
		})
	}

	// Unary callers.
	unaryConns := make([]*grpc.ClientConn, *conns)
	for i := range unaryConns {
		unaryConns[i] = dial(false)
	}
	start := time.Now()
	for i := range *unary {
		wg.Go(func() {
			c := pb.NewTaggerServiceClient(unaryConns[i%len(unaryConns)])
			for ctx.Err() == nil {
				t0 := time.Now()
				callCtx, callCancel := context.WithTimeout(ctx, 10*time.Second)
				_, err := c.TagDocument(callCtx, &pb.TagDocumentRequest{Document: doc, Options: &pb.TagOptions{OmitEvidence: true}})
				callCancel()
				took := time.Since(t0)
				if ctx.Err() != nil {
					return
				}
				mu.Lock()
				unaryCodes[status.Code(err)]++
				if err == nil {
					latencies = append(latencies, took)
				}
				mu.Unlock()
				if err != nil {
					time.Sleep(100 * time.Millisecond) // as a client honouring the retry hint would, roughly
				}
			}
		})
	}
	wg.Wait()
	loadTook := time.Since(start)
	for _, c := range streamConns {
		c.Close()
	}

	// After the load: how soon does a call succeed, and how fast?
	after := time.Now()
	probe := pb.NewTaggerServiceClient(unaryConns[0])
	var recovered time.Duration = -1
	var probeLatency []time.Duration
	for time.Since(after) < 30*time.Second {
		t0 := time.Now()
		pctx, pcancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := probe.TagDocument(pctx, &pb.TagDocumentRequest{Document: doc})
		pcancel()
		if err == nil {
			if recovered < 0 {
				recovered = time.Since(after)
			}
			probeLatency = append(probeLatency, time.Since(t0))
			if len(probeLatency) == 20 {
				break
			}
			continue
		}
		time.Sleep(100 * time.Millisecond)
	}
	close(stopSampling)
	<-sampled
	for _, c := range unaryConns {
		c.Close()
	}

	total := 0
	for _, n := range unaryCodes {
		total += n
	}
	fmt.Printf("load: %d unary callers and %d streams that never read, for %s\n", *unary, *streams, loadTook.Round(100*time.Millisecond))
	fmt.Printf("unary calls: %d (%.0f/s); codes: %s\n", total, float64(total)/loadTook.Seconds(), codeList(unaryCodes))
	slices.Sort(latencies)
	if n := len(latencies); n > 0 {
		fmt.Printf("unary calls that succeeded: p50 %s, p99 %s, max %s\n", latencies[n/2].Round(time.Microsecond),
			latencies[n*99/100].Round(time.Microsecond), latencies[n-1].Round(time.Microsecond))
	}
	keys := make([]string, 0, len(streamCodes))
	for k := range streamCodes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, streamCodes[k]))
	}
	fmt.Printf("streams that never read: %d documents sent; ended: %s\n", sent, strings.Join(parts, ", "))
	if *pid > 0 {
		fmt.Printf("server memory: peak RSS %d MiB (sampled every 100 ms), VmHWM %d MiB\n", peakRSS/1024, statusKB(*pid, "VmHWM")/1024)
	}
	if recovered < 0 {
		fmt.Println("after the load: no call succeeded within 30 s")
		os.Exit(1)
	}
	slices.Sort(probeLatency)
	fmt.Printf("after the load: first call succeeded %s after it stopped; next %d calls: p50 %s, max %s\n",
		recovered.Round(time.Millisecond), len(probeLatency), probeLatency[len(probeLatency)/2].Round(time.Microsecond),
		probeLatency[len(probeLatency)-1].Round(time.Microsecond))
}

func codeList(m map[codes.Code]int) string {
	var parts []string
	for c, n := range m {
		parts = append(parts, fmt.Sprintf("%s %d", c, n))
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

// statusKB reads a "Name: N kB" line of /proc/PID/status.
func statusKB(pid int, name string) int {
	if pid <= 0 {
		return 0
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return n
		}
	}
	return 0
}
