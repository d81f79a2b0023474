package alerts

import (
	"slices"
	"testing"
	"time"

	"github.com/schoolwatch/schoolwatch/mail"
	"github.com/schoolwatch/schoolwatch/rules"
	"github.com/schoolwatch/schoolwatch/store"
	"github.com/schoolwatch/schoolwatch/watchers"
)

// TestLabels: every category of the rules vocabulary has a label of its
// own, and no label names a category outside it, so a subject never
// falls back to "School mentioned online" for a category it knows.
func TestLabels(t *testing.T) {
	byLabel := map[string]rules.Category{}
	for _, c := range rules.Categories {
		l, ok := Labels[c]
		if !ok || l == "" {
			t.Errorf("category %q has no label", c)
			continue
		}
		if other, dup := byLabel[l]; dup {
			t.Errorf("categories %q and %q share the label %q", c, other, l)
		}
		byLabel[l] = c
		if c != rules.OtherCategory && l == Labels[rules.OtherCategory] {
			t.Errorf("category %q is labelled as other", c)
		}
	}
	for c := range Labels {
		if !slices.Contains(rules.Categories, c) {
			t.Errorf("Labels has %q, which is not a category", c)
		}
	}
}

// TestSubjectNamesNewCategories: an alert in one of the guidance v2
// categories says so in its subject.
func TestSubjectNamesNewCategories(t *testing.T) {
	a := hostileAlert()
	a.Category, a.Severity = "pupil-bullying", rules.High
	m, err := testRenderer().Render(&Group{Recipient: "dsl@x.org", Kind: mail.KindAlert, Entries: []Entry{{Alert: a, Rules: []Alert{a}}}, key: "alert-k"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if want := "[schoolwatch][HIGH] Possible bullying between pupils — St Mary's CE Primary"; m.Subject != want {
		t.Errorf("subject = %q, want %q", m.Subject, want)
	}
}

// TestMailKinds: the kinds alerts queues are in mail's one list.
func TestMailKinds(t *testing.T) {
	for _, k := range []mail.Kind{mail.KindAlert, mail.KindDigest, mail.KindNotice, mail.KindHeartbeat} {
		if !slices.Contains(mail.Kinds, k) {
			t.Errorf("alerts queues %q, which mail.Kinds lacks", k)
		}
	}
	row := pendingFor(t, "dsl@x.org", "1", hostileAlert())
	for d, want := range map[rules.Delivery]mail.Kind{rules.Immediate: mail.KindAlert, rules.Digest: mail.KindDigest} {
		if got := groupPending([]store.Pending{row}, d)[0].Kind; got != want {
			t.Errorf("a %s group is a %q mail, want %q", d, got, want)
		}
	}
}

// TestCheckAdvice: the operator notice has advice for every fetch error
// class, and none for a class that does not exist.
func TestCheckAdvice(t *testing.T) {
	classes := map[string]bool{}
	for _, c := range watchers.ErrorClasses {
		classes[string(c)] = true
		if checkAdvice[string(c)] == "" {
			t.Errorf("no advice for error class %q", c)
		}
	}
	for k := range checkAdvice {
		if k != NoticeQuiet && !classes[k] {
			t.Errorf("advice for %q, which is not an error class", k)
		}
	}
}
