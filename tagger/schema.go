package tagger

import (
	"encoding/json"
	"reflect"
	"strings"
)

// The rule file's format as Go types, for the JSON Schema only: the loader
// reads YAML nodes itself (to report every problem with its line), and a
// test holds its key lists to these types. Field tags: json names the key,
// doc describes it, schema adds constraints (required, min, max,
// exclusiveMin, minItems, minLength, pattern, enum); stringForms lists the
// types a plain string may stand for.
type (
	fileRuleset struct {
		Name        string       `json:"name" doc:"A free-form name of the ruleset."`
		Description string       `json:"description" doc:"Free text; not used by the engine."`
		Scoring     fileScoring  `json:"scoring" doc:"Document-level scoring constants."`
		Defaults    fileDefaults `json:"defaults" doc:"Defaults for every term (and folded/hyphens for exclusions)."`
		Prefixes    []string     `json:"number_prefixes" doc:"Words that may stand before the number a <n> slot matches (hơn, khoảng, more than): the slot takes them with the number. At most 3 words each, no digits." schema:"minItems=1"`
		Themes      []fileTheme  `json:"themes" doc:"The themes." schema:"required,minItems=1"`
	}
	fileScoring struct {
		ReferenceWords  int     `json:"reference_words" doc:"Document length (words) up to which one strong mention is enough (default 200)." schema:"min=1"`
		RepeatFactor    float64 `json:"repeat_factor" doc:"What each doubling of one term's mentions adds to its weight (default 0.5)." schema:"min=0,max=10"`
		MaxRepeat       float64 `json:"max_repeat" doc:"Ceiling of a term's repeated mentions, in multiples of its weight (default 2)." schema:"min=1,max=100"`
		MaxLengthFactor float64 `json:"max_length_factor" doc:"Cap of the length divisor sqrt(words/reference_words); 0 is no cap." schema:"min=0,max=100"`
		TitleWeight     float64 `json:"title_weight" doc:"Multiplier of what a match in a document's title contributes (default 1: as in the text)." schema:"min=1,max=4"`
		OneSense        bool    `json:"one_sense_per_document" doc:"When a term's exclusions cancel more of its matches in a document than they leave, cancel the rest too: the document uses the word in the other sense throughout (default false)."`
	}
	fileDefaults struct {
		Weight        float64 `json:"weight" doc:"Default term weight, in (0, 1]." schema:"exclusiveMin=0,max=1"`
		CaseSensitive bool    `json:"case_sensitive" doc:"Match letter case exactly."`
		Folded        bool    `json:"folded" doc:"Also match text typed without diacritics."`
		Inflect       bool    `json:"inflect" doc:"Also match English -s/-es/-ies forms of the last word."`
		Hyphens       bool    `json:"hyphens" doc:"Also match with hyphens between the words."`
	}
	fileTheme struct {
		ID          string          `json:"id" doc:"Theme id: lower-case letters, digits and _." schema:"required,pattern=^[a-z][a-z0-9_]*$"`
		Label       fileLabel       `json:"label" doc:"Display labels." schema:"required"`
		Description string          `json:"description" doc:"What the theme covers and what it does not."`
		Threshold   float64         `json:"threshold" doc:"Score in (0, 1] at which the theme is tagged (default 0.5)." schema:"exclusiveMin=0,max=1"`
		Terms       []fileTerm      `json:"terms" doc:"Weighted words and phrases." schema:"required,minItems=1"`
		Exclusions  []fileExclusion `json:"exclusions" doc:"Phrases that cancel the theme's matches near them."`
		Examples    fileExamples    `json:"examples" doc:"Texts the theme must and must not tag; run by tagctl rules test."`
	}
	fileLabel struct {
		VI string `json:"vi" doc:"Vietnamese label."`
		EN string `json:"en" doc:"English label."`
	}
	fileTerm struct {
		ID            string   `json:"id" doc:"Term id (default: derived from the text); exclusions cancel by id."`
		Text          string   `json:"text" doc:"The word or phrase; <n> in it stands for any number (giảm <n>% khí thải), never first." schema:"required,minLength=1"`
		Variants      []string `json:"variants" doc:"Other spellings sharing the id and weight."`
		Weight        float64  `json:"weight" doc:"How strongly one mention points to the theme, in (0, 1]." schema:"exclusiveMin=0,max=1"`
		CaseSensitive bool     `json:"case_sensitive" doc:"Match letter case exactly (AI, not ai)."`
		Folded        bool     `json:"folded" doc:"Also match text typed without diacritics."`
		Unfolded      []string `json:"unfolded" doc:"Phrases of this entry (its text or variants, or its needs) that match only with their diacritics although they are folded: typed without them they are another word." schema:"minItems=1"`
		Inflect       bool     `json:"inflect" doc:"Also match English -s/-es/-ies forms of the last word."`
		Hyphens       bool     `json:"hyphens" doc:"Also match with hyphens between the words."`
		Weak          bool     `json:"weak" doc:"Counts only when a strong term of the theme matched too."`
		Window        int      `json:"window" doc:"For a weak term: the strong term must stand within this many words (0: anywhere)." schema:"min=0,max=1048576"`
		Context       bool     `json:"context" doc:"Counts nothing itself; weak terms of the theme count near it as near a strong term (no weight, not weak)."`
		Needs         []string `json:"needs" doc:"The term's own setting: it counts only where one of these words stands within needs_window words." schema:"minItems=1"`
		NeedsWindow   int      `json:"needs_window" doc:"For needs: how many words away the setting may stand (0: anywhere in the document)." schema:"min=0,max=1048576"`
	}
	fileExclusion struct {
		ID             string   `json:"id" doc:"Exclusion id (default: derived from the text)."`
		Text           string   `json:"text" doc:"The phrase; <n> in it stands for any number (bệnh án số <n>), never first." schema:"required,minLength=1"`
		Variants       []string `json:"variants" doc:"Other spellings."`
		Cancels        []string `json:"cancels" doc:"Term ids it cancels (default: every term of the theme)." schema:"minItems=1"`
		Window         int      `json:"window" doc:"Cancels matches within this many words (0: overlapping only)." schema:"min=0,max=1048576"`
		Scope          string   `json:"scope" doc:"near (default) or document (cancels everywhere in the document)." schema:"enum=near|document"`
		CaseSensitive  bool     `json:"case_sensitive" doc:"Match letter case exactly (Electric Boat, not electric boat); not taken from defaults."`
		Folded         bool     `json:"folded" doc:"Also match text typed without diacritics."`
		Unfolded       []string `json:"unfolded" doc:"Phrases of this entry (its text or variants) that match only with their diacritics although it is folded: typed without them they are another word." schema:"minItems=1"`
		Hyphens        bool     `json:"hyphens" doc:"Also match with hyphens between the words."`
		OtherExpansion bool     `json:"other_expansion" doc:"The text is an acronym (2 to 10 capital letters); the exclusion matches where the document spells it out as other words, in parentheses beside it (Assistant Instructor (AI)) or after \"stands for\" or \"là viết tắt của\", and no term of the theme matches those words."`
	}
	fileExamples struct {
		Tagged    []string `json:"tagged" doc:"Texts the theme must tag."`
		NotTagged []string `json:"not_tagged" doc:"Texts the theme must not tag."`
	}
)

// stringForms lists the types a plain string may stand for (a term or an
// exclusion given by its text alone).
var stringForms = map[reflect.Type]bool{reflect.TypeFor[fileTerm](): true, reflect.TypeFor[fileExclusion](): true}

// fileKeys returns the keys of a file type, in order.
func fileKeys(v any) []string {
	t := reflect.TypeOf(v)
	keys := make([]string, t.NumField())
	for i := range keys {
		keys[i] = t.Field(i).Tag.Get("json")
	}
	return keys
}

// RulesetSchema returns the JSON Schema (draft-07) of the rule file
// format, generated from the types above; rules/ruleset.schema.json is its
// committed copy (a test keeps it fresh).
func RulesetSchema() []byte {
	s := schemaOf(reflect.TypeFor[fileRuleset]())
	s["$schema"] = "http://json-schema.org/draft-07/schema#"
	s["$id"] = "https://github.com/doctagger/doctagger/rules/ruleset.schema.json"
	s["title"] = "doctagger ruleset"
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		panic(err)
	}
	return append(data, '\n')
}

func schemaOf(t reflect.Type) map[string]any {
	switch t.Kind() {
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int:
		return map[string]any{"type": "integer"}
	case reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice:
		items := schemaOf(t.Elem())
		if t.Elem().Kind() == reflect.String {
			// A single string is accepted where a list of strings is.
			return map[string]any{"oneOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "array", "items": items}}}
		}
		return map[string]any{"type": "array", "items": items}
	}
	props := map[string]any{}
	var required []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := f.Tag.Get("json")
		p := schemaOf(f.Type)
		if d := f.Tag.Get("doc"); d != "" {
			p["description"] = d
		}
		for _, c := range strings.Split(f.Tag.Get("schema"), ",") {
			k, v, _ := strings.Cut(c, "=")
			switch k {
			case "required":
				required = append(required, name)
			case "min":
				p["minimum"] = json.Number(v)
			case "max":
				p["maximum"] = json.Number(v)
			case "exclusiveMin":
				p["exclusiveMinimum"] = json.Number(v)
			case "minItems", "minLength":
				target := p
				if alt, ok := p["oneOf"].([]any); ok {
					target = alt[1].(map[string]any)
				}
				target[k] = json.Number(v)
			case "pattern":
				p["pattern"] = v
			case "enum":
				p["enum"] = strings.Split(v, "|")
			}
		}
		props[name] = p
	}
	obj := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		obj["required"] = required
	}
	if stringForms[t] {
		return map[string]any{"oneOf": []any{map[string]any{"type": "string", "minLength": 1, "description": "Shorthand: the text alone, with the defaults."}, obj}}
	}
	return obj
}
