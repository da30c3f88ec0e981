package main

import (
	"context"
	"fmt"
	"io"
	"iter"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
	"github.com/doctagger/doctagger/client"
)

const tagLong = `Tags documents and writes one result per document: on a doctagger service
(gRPC, or its REST mirror with --rest), or in this process (--local, or
--rules FILE), with the same results.

Inputs: plain-text files (one document each, id = path), directories (every
file below them, hidden ones skipped), NDJSON files (*.ndjson, *.jsonl, also
.gz), and "-" for standard input (NDJSON, or one plain-text document with
--plain). Without an argument, standard input is read. Inputs are read as a
stream, a document when the job is ready for it.

An NDJSON line is a document, {"id": ..., "text": ..., "languageCode": ...}
(the id may also be a number; "language_code" and, as older tagctl
versions read it, "language" are accepted for the language; other keys are
ignored), or a line of the REST stream (POST /v1/documents:streamTag),
{"document": {...}, "options": {...}}: its options replace those of the
flags (or of an earlier line of the file) for that line and the next lines
of the file that carry none, as in the REST stream. A document without an
id is named FILE:LINE; a line that is malformed or not valid UTF-8 is a
failed document with id FILE:LINE.

Output (--format ndjson): one line per document as the REST stream writes
them, {"result": {"documentId", "tags", "rulesetVersion", "words",
"untagged", "sequence", "error"}} (the API's DocumentResult in its JSON
form, lowerCamelCase; "sequence" is the document's place in the input, and
"error" a google.rpc.Status for a failed document). -o FILE.gz compresses.

Batch jobs: --shard I/N tags only the documents whose id hashes to I
(64-bit FNV-1a of the id, modulo N), so N workers split one input with no
coordination; --resume reads the -o file first, skips the ids it holds and
appends, so a killed run continues where it stopped with every id once
(documents that failed for the job's sake, such as an unreachable server,
are tagged again; those the server refused stay).

The exit status is 0 when every document was tagged, 1 when any failed, 2
on a usage error and 130 when interrupted; each failure is written to
stderr (id and reason) and to the output.`

const tagExample = `  tagctl tag --addr tagger-0:9090,tagger-1:9090 articles/ > tags.ndjson
  tagctl tag docs.ndjson --format table -q
  zcat dump.ndjson.gz | tagctl tag --themes ai --only-tagged --format csv > ai.csv
  tagctl tag --local corpus.jsonl -o tags.ndjson.gz
  tagctl tag --shard 0/4 --resume -o part-0.ndjson.gz corpus.jsonl`

type tagFlags struct {
	remote
	plain, evidence, untagged bool
	titleFirstLine            bool
	format, themes, language  string
	minScore                  float64
	concurrency, window       int
	output, progress          string
	quiet, ordered            bool
	onlyTagged, resume        bool
	shard                     string
	retryFor                  time.Duration
}

func tagCommand(stdout, stderr io.Writer) *cobra.Command {
	var f tagFlags
	cmd := &cobra.Command{
		Use:     "tag [FILE|DIR|-]...",
		Short:   "tag files, directories or NDJSON documents, on the service or in process (NDJSON, CSV or table out)",
		Long:    tagLong,
		Example: tagExample,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := applyEnv(cmd); err != nil {
				return err
			}
			return runTag(cmd, &f, args, stdout, stderr)
		},
	}
	fs := cmd.Flags()
	f.register(fs)
	f.registerLocal(fs)
	fs.BoolVar(&f.plain, "plain", false, "read standard input as one plain-text document (id \"-\") instead of NDJSON")
	fs.BoolVar(&f.titleFirstLine, "title-first-line", false, "tag the first line of each text as the document's title (a document that has a \"title\" keeps it)")
	fs.StringVar(&f.format, "format", "ndjson", "output format: ndjson, csv or table")
	fs.BoolVar(&f.evidence, "evidence", false, "ask for each tag's evidence (the matched text and where), written in NDJSON output")
	fs.BoolVar(&f.untagged, "untagged", false, "also ask for the themes that matched but stayed under their threshold (NDJSON output)")
	fs.BoolVar(&f.onlyTagged, "only-tagged", false, "write only the documents that got a tag (and the failed ones); the summary counts the others")
	fs.StringVar(&f.themes, "themes", "", "comma-separated theme ids to tag (default: every theme)")
	fs.Float64Var(&f.minScore, "min-score", 0, "drop tags scoring below this, on top of each theme's threshold")
	fs.StringVar(&f.language, "language", "", "language hint for documents that carry none (vi, en): the language of the labels")
	fs.IntVar(&f.concurrency, "concurrency", 4, "streams (gRPC) or requests (REST) at once; each stream goes to one replica, so use 2 or more per replica; with --local, engine goroutines (default: one per core)")
	fs.IntVar(&f.window, "window", 0, "documents in flight over all streams (default 128 per stream)")
	fs.DurationVar(&f.retryFor, "retry-for", 30*time.Second, "how long to keep reopening streams while no replica answers before the remaining documents fail")
	fs.StringVarP(&f.output, "output", "o", "", "write the results to this file instead of standard output (gzip-compressed when it ends in .gz)")
	fs.BoolVar(&f.resume, "resume", false, "read the -o file first, skip the documents it holds and append (a killed or failed run continues)")
	fs.StringVar(&f.shard, "shard", "", "I/N: tag only the documents whose id hashes to shard I of N (FNV-1a of the id, modulo N) (env DOCTAGGER_SHARD)")
	fs.BoolVar(&f.ordered, "ordered", false, "write the results in input order (holds back at most --window results)")
	fs.StringVar(&f.progress, "progress", "auto", "progress bar on stderr: auto (when stderr is a terminal), always or never")
	fs.BoolVarP(&f.quiet, "quiet", "q", false, "no closing summary on stderr (failures are still reported)")
	cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{"ndjson", "csv", "table"}, cobra.ShellCompDirectiveNoFileComp))
	cmd.RegisterFlagCompletionFunc("progress", cobra.FixedCompletions([]string{"auto", "always", "never"}, cobra.ShellCompDirectiveNoFileComp))
	cmd.MarkFlagFilename("rules", "yaml", "yml")
	cmd.MarkFlagFilename("output")
	return cmd
}

func runTag(cmd *cobra.Command, f *tagFlags, inputs []string, stdout, stderr io.Writer) error {
	usage := func(format string, args ...any) error { return flagError{fmt.Errorf(format, args...)} }
	switch {
	case f.format != "ndjson" && f.format != "csv" && f.format != "table":
		return usage("--format %q: want ndjson, csv or table", f.format)
	case f.progress != "auto" && f.progress != "always" && f.progress != "never":
		return usage("--progress %q: want auto, always or never", f.progress)
	case f.concurrency < 1 || f.window < 0 || f.minScore < 0 || f.minScore > 1 || f.retryFor <= 0:
		return usage("--concurrency must be at least 1, --window not negative, --min-score in [0, 1], --retry-for positive")
	case !utf8.ValidString(f.themes) || !utf8.ValidString(f.language):
		return usage("--themes and --language must be valid UTF-8")
	case f.resume && (f.output == "" || f.output == "-"):
		return usage("--resume reads and appends to the output file: give it with -o FILE")
	case f.resume && f.format != "ndjson":
		return usage("--resume reads the NDJSON output: drop --format %s", f.format)
	}
	sel := &selection{place: map[int64]int64{}}
	if f.shard != "" {
		sh, err := parseShard(f.shard)
		if err != nil {
			return flagError{err}
		}
		sel.shard = sh
	}
	if len(inputs) == 0 {
		if isTerminal(stdin) {
			return usage("no input: give files or directories, or pipe NDJSON documents to standard input")
		}
		inputs = []string{"-"}
	}
	sources, err := expandInputs(inputs, f.plain)
	if err != nil {
		return err
	}
	svc, err := f.open()
	if err != nil {
		return err
	}
	defer svc.Close()

	out, err := openOutput(f.output, f.resume, stdout)
	if err != nil {
		return err
	}
	defer out.close()
	if f.resume {
		sel.done = out.done
	}

	opts := &pb.TagOptions{MinScore: f.minScore, OmitEvidence: !f.evidence, IncludeUntagged: f.untagged}
	for _, th := range strings.Split(f.themes, ",") {
		if th = strings.TrimSpace(th); th != "" {
			opts.Themes = append(opts.Themes, th)
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	j := &tagJob{
		w:          newResultWriter(out.w, f.format),
		out:        out,
		stderr:     stderr,
		sel:        sel,
		onlyTagged: f.onlyTagged,
		hint:       f.hint,
		start:      time.Now(),
		lastFlush:  time.Now(),
		themes:     map[string]int{},
		version:    map[string]int{},
		peers:      map[string]int{},
	}
	if f.progress == "always" || f.progress == "auto" && isTerminal(stderr) {
		total := int64(-1)
		if sel.shard.count <= 1 && !f.resume {
			total = countDocs(sources)
		}
		j.bar = newProgressBar(stderr, total)
	}
	docs := readDocs(sources, f.language, j.inputError)
	if f.titleFirstLine {
		docs = firstLineTitles(docs)
	}
	docs = sel.filter(docs)

	mode := "grpc"
	so := client.StreamOptions{Tag: opts, Streams: f.concurrency, Window: f.window, FailAfter: f.retryFor}
	var stats client.StreamStats
	switch {
	case f.isLocal():
		mode = "local"
		if !cmd.Flags().Changed("concurrency") {
			so.Streams = runtime.GOMAXPROCS(0)
		}
	case f.rest != "":
		mode = "rest" // without --window, 200 documents per request (the client's default)
	default:
		so.Stats = &stats
	}
	results := svc.TagStream(ctx, docs, so)
	if f.ordered {
		results = client.InOrder(results)
	}
	consume(results, j)
	if err := j.finish(); err != nil {
		return err
	}
	if !f.quiet {
		j.summary(&stats, mode)
	}
	if j.hinted != "" {
		fmt.Fprintf(stderr, "tagctl tag: %s\n", j.hinted)
	}
	switch {
	case ctx.Err() != nil:
		return exitError{code: 130}
	case j.failed > 0:
		return exitError{code: 1}
	}
	return nil
}

func consume(results iter.Seq[client.Result], j *tagJob) {
	for res := range results {
		j.result(res)
	}
}
