package main

import (
	"errors"
	"strings"
	"testing"
)

// A measurement that fails is reported as failed, with its error, and the
// others keep their sections.
func TestReportFailedMeasurement(t *testing.T) {
	var b strings.Builder
	ms := measurements[0]
	err := writeReport(&b, report{
		Machine:  machineInfo{Commit: "abc123"},
		Sections: map[int]section{ms.Num: failedSection{ms, errors.New("moto refused")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"| commit | abc123 |", "**Failed in this run**", "moto refused", "**Not measured in this run**"} {
		if !strings.Contains(out, want) {
			t.Errorf("got a report without %q, want it:\n%s", want, out)
		}
	}
}
