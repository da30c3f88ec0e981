package service

import (
	"os"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
	"github.com/doctagger/doctagger/tagger"
)

// TestSizeBound: sizeBound, which spares the exact size of every result,
// is never below it, whatever the result holds (evidence, dropped matches,
// untagged themes, English labels, a long id), and stays within a small
// factor of it.
func TestSizeBound(t *testing.T) {
	rs, err := tagger.DefaultRuleset()
	if err != nil {
		t.Fatal(err)
	}
	tg, err := tagger.Compile(rs)
	if err != nil {
		t.Fatal(err)
	}
	dense, err := os.ReadFile("../../scripts/testdata/doc-2kb.txt")
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{
		string(dense),
		strings.Repeat(string(dense), 20),
		"Người dân làm thẻ CCCD gắn chip tại công an phường; con chip lưu thông tin.",
		"Không ai biết ai là người thắng. Drone giao hàng và điện gió ngoài khơi.",
		"",
	}
	for _, text := range texts {
		for _, opts := range []tagger.Options{{}, {IncludeUntagged: true}, {OmitEvidence: true}} {
			for _, d := range []*pb.Document{{Id: "a"}, {Id: strings.Repeat("đ", 300), LanguageCode: "en"}} {
				out, err := tg.Tag(text, opts)
				if err != nil {
					t.Fatal(err)
				}
				d.Text = text
				res := Result(d, out)
				res.Sequence = 1 << 40 // streams add it
				bound, exact := sizeBound(d.GetId(), out), proto.Size(&pb.StreamTagDocumentsResponse{Result: res})
				if bound < exact || bound > 4*exact+256 {
					t.Errorf("%.30q %+v: bound %d, exact size %d", text, opts, bound, exact)
				}
			}
		}
	}
}
