from google.protobuf import timestamp_pb2 as _timestamp_pb2
from doctagger._gen.google.rpc import status_pb2 as _status_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
DROP_REASON_EXCLUDED: DropReason
DROP_REASON_NEEDS_UNMET: DropReason
DROP_REASON_UNSPECIFIED: DropReason
DROP_REASON_UNSUPPORTED: DropReason

class BatchTagDocumentsRequest(_message.Message):
    __slots__ = ["documents", "options"]
    DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    documents: _containers.RepeatedCompositeFieldContainer[Document]
    options: TagOptions
    def __init__(self, documents: _Optional[_Iterable[_Union[Document, _Mapping]]] = ..., options: _Optional[_Union[TagOptions, _Mapping]] = ...) -> None: ...

class BatchTagDocumentsResponse(_message.Message):
    __slots__ = ["results"]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[DocumentResult]
    def __init__(self, results: _Optional[_Iterable[_Union[DocumentResult, _Mapping]]] = ...) -> None: ...

class Document(_message.Message):
    __slots__ = ["id", "language_code", "text", "title"]
    ID_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_CODE_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    id: str
    language_code: str
    text: str
    title: str
    def __init__(self, id: _Optional[str] = ..., text: _Optional[str] = ..., language_code: _Optional[str] = ..., title: _Optional[str] = ...) -> None: ...

class DocumentResult(_message.Message):
    __slots__ = ["document_id", "error", "ruleset_version", "sequence", "tags", "untagged", "words"]
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    RULESET_VERSION_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    UNTAGGED_FIELD_NUMBER: _ClassVar[int]
    WORDS_FIELD_NUMBER: _ClassVar[int]
    document_id: str
    error: _status_pb2.Status
    ruleset_version: str
    sequence: int
    tags: _containers.RepeatedCompositeFieldContainer[Tag]
    untagged: _containers.RepeatedCompositeFieldContainer[Tag]
    words: int
    def __init__(self, document_id: _Optional[str] = ..., tags: _Optional[_Iterable[_Union[Tag, _Mapping]]] = ..., ruleset_version: _Optional[str] = ..., words: _Optional[int] = ..., untagged: _Optional[_Iterable[_Union[Tag, _Mapping]]] = ..., error: _Optional[_Union[_status_pb2.Status, _Mapping]] = ..., sequence: _Optional[int] = ...) -> None: ...

class DroppedEvidence(_message.Message):
    __slots__ = ["evidence", "exclusion", "exclusion_end", "exclusion_in_title", "exclusion_rune_end", "exclusion_rune_start", "exclusion_start", "exclusion_text", "exclusion_utf16_end", "exclusion_utf16_start", "reason"]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    EXCLUSION_END_FIELD_NUMBER: _ClassVar[int]
    EXCLUSION_FIELD_NUMBER: _ClassVar[int]
    EXCLUSION_IN_TITLE_FIELD_NUMBER: _ClassVar[int]
    EXCLUSION_RUNE_END_FIELD_NUMBER: _ClassVar[int]
    EXCLUSION_RUNE_START_FIELD_NUMBER: _ClassVar[int]
    EXCLUSION_START_FIELD_NUMBER: _ClassVar[int]
    EXCLUSION_TEXT_FIELD_NUMBER: _ClassVar[int]
    EXCLUSION_UTF16_END_FIELD_NUMBER: _ClassVar[int]
    EXCLUSION_UTF16_START_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    evidence: Evidence
    exclusion: str
    exclusion_end: int
    exclusion_in_title: bool
    exclusion_rune_end: int
    exclusion_rune_start: int
    exclusion_start: int
    exclusion_text: str
    exclusion_utf16_end: int
    exclusion_utf16_start: int
    reason: DropReason
    def __init__(self, evidence: _Optional[_Union[Evidence, _Mapping]] = ..., reason: _Optional[_Union[DropReason, str]] = ..., exclusion: _Optional[str] = ..., exclusion_text: _Optional[str] = ..., exclusion_start: _Optional[int] = ..., exclusion_end: _Optional[int] = ..., exclusion_rune_start: _Optional[int] = ..., exclusion_rune_end: _Optional[int] = ..., exclusion_utf16_start: _Optional[int] = ..., exclusion_utf16_end: _Optional[int] = ..., exclusion_in_title: bool = ...) -> None: ...

class Evidence(_message.Message):
    __slots__ = ["end", "folded", "in_title", "pattern", "rune_end", "rune_start", "start", "term", "text", "utf16_end", "utf16_start", "weight"]
    END_FIELD_NUMBER: _ClassVar[int]
    FOLDED_FIELD_NUMBER: _ClassVar[int]
    IN_TITLE_FIELD_NUMBER: _ClassVar[int]
    PATTERN_FIELD_NUMBER: _ClassVar[int]
    RUNE_END_FIELD_NUMBER: _ClassVar[int]
    RUNE_START_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    TERM_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    UTF16_END_FIELD_NUMBER: _ClassVar[int]
    UTF16_START_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    end: int
    folded: bool
    in_title: bool
    pattern: str
    rune_end: int
    rune_start: int
    start: int
    term: str
    text: str
    utf16_end: int
    utf16_start: int
    weight: float
    def __init__(self, term: _Optional[str] = ..., pattern: _Optional[str] = ..., text: _Optional[str] = ..., start: _Optional[int] = ..., end: _Optional[int] = ..., rune_start: _Optional[int] = ..., rune_end: _Optional[int] = ..., utf16_start: _Optional[int] = ..., utf16_end: _Optional[int] = ..., weight: _Optional[float] = ..., folded: bool = ..., in_title: bool = ...) -> None: ...

class GetRulesetRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class GetRulesetResponse(_message.Message):
    __slots__ = ["ruleset"]
    RULESET_FIELD_NUMBER: _ClassVar[int]
    ruleset: Ruleset
    def __init__(self, ruleset: _Optional[_Union[Ruleset, _Mapping]] = ...) -> None: ...

class ListThemesRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class ListThemesResponse(_message.Message):
    __slots__ = ["ruleset_version", "themes"]
    RULESET_VERSION_FIELD_NUMBER: _ClassVar[int]
    THEMES_FIELD_NUMBER: _ClassVar[int]
    ruleset_version: str
    themes: _containers.RepeatedCompositeFieldContainer[Theme]
    def __init__(self, themes: _Optional[_Iterable[_Union[Theme, _Mapping]]] = ..., ruleset_version: _Optional[str] = ...) -> None: ...

class Ruleset(_message.Message):
    __slots__ = ["exclusion_count", "load_time", "name", "source", "term_count", "theme_count", "version"]
    EXCLUSION_COUNT_FIELD_NUMBER: _ClassVar[int]
    LOAD_TIME_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    TERM_COUNT_FIELD_NUMBER: _ClassVar[int]
    THEME_COUNT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    exclusion_count: int
    load_time: _timestamp_pb2.Timestamp
    name: str
    source: str
    term_count: int
    theme_count: int
    version: str
    def __init__(self, name: _Optional[str] = ..., version: _Optional[str] = ..., source: _Optional[str] = ..., load_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., theme_count: _Optional[int] = ..., term_count: _Optional[int] = ..., exclusion_count: _Optional[int] = ...) -> None: ...

class StreamTagDocumentsRequest(_message.Message):
    __slots__ = ["document", "options"]
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    document: Document
    options: TagOptions
    def __init__(self, document: _Optional[_Union[Document, _Mapping]] = ..., options: _Optional[_Union[TagOptions, _Mapping]] = ...) -> None: ...

class StreamTagDocumentsResponse(_message.Message):
    __slots__ = ["result"]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: DocumentResult
    def __init__(self, result: _Optional[_Union[DocumentResult, _Mapping]] = ...) -> None: ...

class Tag(_message.Message):
    __slots__ = ["dropped", "evidence", "label", "label_en", "label_vi", "score", "theme", "threshold"]
    DROPPED_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    LABEL_EN_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    LABEL_VI_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    THEME_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    dropped: _containers.RepeatedCompositeFieldContainer[DroppedEvidence]
    evidence: _containers.RepeatedCompositeFieldContainer[Evidence]
    label: str
    label_en: str
    label_vi: str
    score: float
    theme: str
    threshold: float
    def __init__(self, theme: _Optional[str] = ..., label: _Optional[str] = ..., label_vi: _Optional[str] = ..., label_en: _Optional[str] = ..., score: _Optional[float] = ..., threshold: _Optional[float] = ..., evidence: _Optional[_Iterable[_Union[Evidence, _Mapping]]] = ..., dropped: _Optional[_Iterable[_Union[DroppedEvidence, _Mapping]]] = ...) -> None: ...

class TagDocumentRequest(_message.Message):
    __slots__ = ["document", "options"]
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    document: Document
    options: TagOptions
    def __init__(self, document: _Optional[_Union[Document, _Mapping]] = ..., options: _Optional[_Union[TagOptions, _Mapping]] = ...) -> None: ...

class TagDocumentResponse(_message.Message):
    __slots__ = ["result"]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: DocumentResult
    def __init__(self, result: _Optional[_Union[DocumentResult, _Mapping]] = ...) -> None: ...

class TagOptions(_message.Message):
    __slots__ = ["include_untagged", "min_score", "omit_evidence", "themes"]
    INCLUDE_UNTAGGED_FIELD_NUMBER: _ClassVar[int]
    MIN_SCORE_FIELD_NUMBER: _ClassVar[int]
    OMIT_EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    THEMES_FIELD_NUMBER: _ClassVar[int]
    include_untagged: bool
    min_score: float
    omit_evidence: bool
    themes: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, themes: _Optional[_Iterable[str]] = ..., omit_evidence: bool = ..., min_score: _Optional[float] = ..., include_untagged: bool = ...) -> None: ...

class Theme(_message.Message):
    __slots__ = ["description", "exclusion_count", "id", "label_en", "label_vi", "term_count", "threshold"]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    EXCLUSION_COUNT_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    LABEL_EN_FIELD_NUMBER: _ClassVar[int]
    LABEL_VI_FIELD_NUMBER: _ClassVar[int]
    TERM_COUNT_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    description: str
    exclusion_count: int
    id: str
    label_en: str
    label_vi: str
    term_count: int
    threshold: float
    def __init__(self, id: _Optional[str] = ..., label_vi: _Optional[str] = ..., label_en: _Optional[str] = ..., description: _Optional[str] = ..., threshold: _Optional[float] = ..., term_count: _Optional[int] = ..., exclusion_count: _Optional[int] = ...) -> None: ...

class DropReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
