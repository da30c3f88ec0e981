package tagger

// ExampleResult is the outcome of one rule-file example.
type ExampleResult struct {
	Theme   string
	Example Example
	// Tag is the theme's verdict on the example text: its score, threshold,
	// evidence and dropped matches (nil when no term of the theme matched).
	Tag *Tag
	// Passed: the theme was tagged exactly when the example says it must be.
	Passed bool
	// Err is set when the text could not be tagged (invalid UTF-8).
	Err error
}

// TestExamples tags every example of every theme of the ruleset and
// reports, for each, whether the theme was tagged as the example demands,
// in file order.
func (t *Tagger) TestExamples() []ExampleResult {
	var out []ExampleResult
	for _, th := range t.rs.Themes {
		for _, ex := range th.Examples {
			out = append(out, t.testExample(th.ID, ex))
		}
	}
	return out
}

// TestExamplesUnmarked runs every example that has diacritics again as
// typed without them (Unmark), in file order; each result's Example.Text is
// the unmarked text. A failure here is not a broken rule: some words cannot
// be folded ("bán dẫn" is also "bàn dân" without marks), and the list shows
// where a reader who types without marks gets another answer.
func (t *Tagger) TestExamplesUnmarked() []ExampleResult {
	var out []ExampleResult
	for _, th := range t.rs.Themes {
		for _, ex := range th.Examples {
			bare := Unmark(ex.Text)
			if bare == ex.Text {
				continue
			}
			ex.Text = bare
			out = append(out, t.testExample(th.ID, ex))
		}
	}
	return out
}

func (t *Tagger) testExample(theme string, ex Example) ExampleResult {
	r := ExampleResult{Theme: theme, Example: ex}
	res, err := t.Tag(ex.Text, Options{Themes: []string{theme}, IncludeUntagged: true})
	if err != nil {
		r.Err = err
		return r
	}
	tagged := false
	for i := range res.Tags {
		if res.Tags[i].Theme == theme {
			r.Tag, tagged = &res.Tags[i], true
		}
	}
	for i := range res.Untagged {
		if res.Untagged[i].Theme == theme {
			r.Tag = &res.Untagged[i]
		}
	}
	r.Passed = tagged == ex.Tagged
	return r
}
