package taggerv1

import (
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"
)

// ErrorDomain is the google.rpc.ErrorInfo domain of the service's errors.
const ErrorDomain = "doctagger"

// Metadata keys of the service's google.rpc.ErrorInfo (the values are
// strings, as ErrorInfo requires).
const (
	// MetaDocumentID is the id of the document that failed.
	MetaDocumentID = "documentId"
	// MetaOffset is, for INVALID_UTF8 in a text, the byte offset of the
	// first bad byte.
	MetaOffset = "offset"
	// MetaBytes is the size that was over its limit.
	MetaBytes = "bytes"
	// MetaLimit is the limit that was passed (bytes, or documents for
	// BATCH_TOO_LARGE).
	MetaLimit = "limit"
	// MetaDocuments is the number of documents of a batch over its limit.
	MetaDocuments = "documents"
	// MetaTheme is the unknown theme of UNKNOWN_THEME.
	MetaTheme = "theme"
	// MetaKnown lists, comma-separated, the themes the ruleset has.
	MetaKnown = "known"
	// MetaLine is the NDJSON line of MALFORMED_LINE, from 1.
	MetaLine = "line"
	// MetaContentEncoding is the refused Content-Encoding.
	MetaContentEncoding = "contentEncoding"
)

// NewStatus builds an error the way the service does: code and message,
// a google.rpc.ErrorInfo with reason and metadata, and, when field is
// set, a google.rpc.BadRequest violation naming the field at fault
// ("documents[3].text").
func NewStatus(code codes.Code, reason ErrorReason, field, msg string, meta map[string]string) *status.Status {
	st := status.New(code, msg)
	var details []protoadapt.MessageV1
	if field != "" {
		details = append(details, &errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: field, Description: msg}}})
	}
	details = append(details, &errdetails.ErrorInfo{Reason: reason.String(), Domain: ErrorDomain, Metadata: meta})
	if d, err := st.WithDetails(details...); err == nil {
		st = d
	}
	return st
}

// ErrorInfoOf is the google.rpc.ErrorInfo of the service's domain in err
// (a gRPC status error, wrapped or not), or nil.
func ErrorInfoOf(err error) *errdetails.ErrorInfo {
	st, ok := status.FromError(err) // also a wrapped one
	if err == nil || !ok {
		return nil
	}
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.GetDomain() == ErrorDomain {
			return info
		}
	}
	return nil
}

// ReasonOf is the ErrorReason of err (see ErrorInfoOf), or
// ERROR_REASON_UNSPECIFIED when it has none.
func ReasonOf(err error) ErrorReason {
	if info := ErrorInfoOf(err); info != nil {
		return ErrorReason(ErrorReason_value[info.GetReason()])
	}
	return ErrorReason_ERROR_REASON_UNSPECIFIED
}
