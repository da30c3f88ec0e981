package gateway

import (
	"math"
	"math/bits"
	"strconv"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protojson"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
)

// The answers of the tagging calls are written to JSON by hand: protojson
// walks every message by reflection and sorts its fields, which was half
// of the NDJSON stream's CPU time. The output is what protojson writes
// with EmitDefaultValues (the same names, values and number formats; only
// the insignificant spaces protojson scatters at random differ);
// TestResultJSONLikeProtojson holds the two together. A result's error,
// rare, is left to protojson.

// appendResultsJSON writes the tagging answers; ok is false for other
// messages.
func appendResultsJSON(b []byte, m any) (out []byte, ok bool, err error) {
	switch m := m.(type) {
	case *pb.StreamTagDocumentsResponse, *pb.TagDocumentResponse: // {"result": ...}
		r := m.(interface{ GetResult() *pb.DocumentResult }).GetResult()
		b = append(b, '{')
		if r != nil {
			b = append(b, `"result":`...)
			if b, err = appendDocumentResult(b, r); err != nil {
				return nil, true, err
			}
		}
		return append(b, '}'), true, nil
	case *pb.BatchTagDocumentsResponse:
		b = append(b, `{"results":[`...)
		for i, r := range m.GetResults() {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendDocumentResult(b, r); err != nil {
				return nil, true, err
			}
		}
		return append(b, "]}"...), true, nil
	}
	return b, false, nil
}

var statusJSON = protojson.MarshalOptions{EmitDefaultValues: true}

func appendDocumentResult(b []byte, r *pb.DocumentResult) ([]byte, error) {
	var err error
	b = append(b, `{"documentId":`...)
	if b, err = appendJSONString(b, r.GetDocumentId()); err != nil {
		return nil, err
	}
	b = append(b, `,"tags":`...)
	if b, err = appendTags(b, r.GetTags()); err != nil {
		return nil, err
	}
	b = append(b, `,"rulesetVersion":`...)
	if b, err = appendJSONString(b, r.GetRulesetVersion()); err != nil {
		return nil, err
	}
	b = append(b, `,"words":`...)
	b = strconv.AppendInt(b, int64(r.GetWords()), 10)
	b = append(b, `,"untagged":`...)
	if b, err = appendTags(b, r.GetUntagged()); err != nil {
		return nil, err
	}
	if r.GetError() != nil {
		b = append(b, `,"error":`...)
		if b, err = statusJSON.MarshalAppend(b, r.Error); err != nil {
			return nil, err
		}
	}
	b = append(b, `,"sequence":"`...) // int64: a string in proto JSON
	b = strconv.AppendInt(b, r.GetSequence(), 10)
	return append(b, `"}`...), nil
}

func appendTags(b []byte, tags []*pb.Tag) ([]byte, error) {
	var err error
	b = append(b, '[')
	for i, t := range tags {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"theme":`...)
		if b, err = appendJSONString(b, t.GetTheme()); err != nil {
			return nil, err
		}
		b = append(b, `,"label":`...)
		if b, err = appendJSONString(b, t.GetLabel()); err != nil {
			return nil, err
		}
		b = append(b, `,"labelVi":`...)
		if b, err = appendJSONString(b, t.GetLabelVi()); err != nil {
			return nil, err
		}
		b = append(b, `,"labelEn":`...)
		if b, err = appendJSONString(b, t.GetLabelEn()); err != nil {
			return nil, err
		}
		b = append(b, `,"score":`...)
		b = appendJSONFloat(b, t.GetScore())
		b = append(b, `,"threshold":`...)
		b = appendJSONFloat(b, t.GetThreshold())
		b = append(b, `,"evidence":[`...)
		for j, e := range t.GetEvidence() {
			if j > 0 {
				b = append(b, ',')
			}
			if b, err = appendEvidence(b, e); err != nil {
				return nil, err
			}
		}
		b = append(b, `],"dropped":[`...)
		for j, d := range t.GetDropped() {
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, '{')
			if d.GetEvidence() != nil {
				b = append(b, `"evidence":`...)
				if b, err = appendEvidence(b, d.Evidence); err != nil {
					return nil, err
				}
				b = append(b, ',')
			}
			b = append(b, `"exclusion":`...)
			if b, err = appendJSONString(b, d.GetExclusion()); err != nil {
				return nil, err
			}
			b = append(b, `,"exclusionText":`...)
			if b, err = appendJSONString(b, d.GetExclusionText()); err != nil {
				return nil, err
			}
			b = appendInt32Field(b, `,"exclusionStart":`, d.GetExclusionStart())
			b = appendInt32Field(b, `,"exclusionEnd":`, d.GetExclusionEnd())
			b = appendInt32Field(b, `,"exclusionRuneStart":`, d.GetExclusionRuneStart())
			b = appendInt32Field(b, `,"exclusionRuneEnd":`, d.GetExclusionRuneEnd())
			b = append(b, `,"reason":"`...)
			b = append(b, d.GetReason().String()...)
			b = append(b, '"')
			b = appendInt32Field(b, `,"exclusionUtf16Start":`, d.GetExclusionUtf16Start())
			b = appendInt32Field(b, `,"exclusionUtf16End":`, d.GetExclusionUtf16End())
			b = append(b, `,"exclusionInTitle":`...)
			b = strconv.AppendBool(b, d.GetExclusionInTitle())
			b = append(b, '}')
		}
		b = append(b, "]}"...)
	}
	return append(b, ']'), nil
}

func appendEvidence(b []byte, e *pb.Evidence) ([]byte, error) {
	var err error
	b = append(b, `{"term":`...)
	if b, err = appendJSONString(b, e.GetTerm()); err != nil {
		return nil, err
	}
	b = append(b, `,"pattern":`...)
	if b, err = appendJSONString(b, e.GetPattern()); err != nil {
		return nil, err
	}
	b = append(b, `,"text":`...)
	if b, err = appendJSONString(b, e.GetText()); err != nil {
		return nil, err
	}
	b = appendInt32Field(b, `,"start":`, e.GetStart())
	b = appendInt32Field(b, `,"end":`, e.GetEnd())
	b = appendInt32Field(b, `,"runeStart":`, e.GetRuneStart())
	b = appendInt32Field(b, `,"runeEnd":`, e.GetRuneEnd())
	b = append(b, `,"weight":`...)
	b = appendJSONFloat(b, e.GetWeight())
	b = append(b, `,"folded":`...)
	b = strconv.AppendBool(b, e.GetFolded())
	b = appendInt32Field(b, `,"utf16Start":`, e.GetUtf16Start())
	b = appendInt32Field(b, `,"utf16End":`, e.GetUtf16End())
	b = append(b, `,"inTitle":`...)
	b = strconv.AppendBool(b, e.GetInTitle())
	return append(b, '}'), nil
}

func appendInt32Field(b []byte, name string, v int32) []byte {
	return strconv.AppendInt(append(b, name...), int64(v), 10)
}

// errInvalidUTF8 is protojson's answer to a string that is not UTF-8.
var errInvalidUTF8 = protojsonError("string field contains invalid UTF-8")

type protojsonError string

func (e protojsonError) Error() string { return string(e) }

// appendJSONString writes s as protojson does: '"', '\\' and control
// characters escaped, everything else as it is; invalid UTF-8 is an error.
func appendJSONString(b []byte, s string) ([]byte, error) {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				return nil, errInvalidUTF8
			}
			i += n
			continue
		}
		b = append(b, s[start:i]...)
		b = append(b, '\\')
		switch c {
		case '"', '\\':
			b = append(b, c)
		case '\b':
			b = append(b, 'b')
		case '\f':
			b = append(b, 'f')
		case '\n':
			b = append(b, 'n')
		case '\r':
			b = append(b, 'r')
		case '\t':
			b = append(b, 't')
		default:
			b = append(b, 'u')
			b = append(b, "0000"[1+(bits.Len32(uint32(c))-1)/4:]...)
			b = strconv.AppendUint(b, uint64(c), 16)
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"'), nil
}

// appendJSONFloat writes a double as protojson does (encoding/json's
// format; NaN and the infinities as strings).
func appendJSONFloat(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(b, `"-Infinity"`...)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}
