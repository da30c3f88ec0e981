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
			r := ExampleResult{Theme: th.ID, Example: ex}
			res, err := t.Tag(ex.Text, Options{Themes: []string{th.ID}, IncludeUntagged: true})
			if err != nil {
				r.Err = err
				out = append(out, r)
				continue
			}
			tagged := false
			for i := range res.Tags {
				if res.Tags[i].Theme == th.ID {
					r.Tag, tagged = &res.Tags[i], true
				}
			}
			for i := range res.Untagged {
				if res.Untagged[i].Theme == th.ID {
					r.Tag = &res.Untagged[i]
				}
			}
			r.Passed = tagged == ex.Tagged
			out = append(out, r)
		}
	}
	return out
}
