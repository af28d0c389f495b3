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

// TestRatioOfZero checks that a round whose denominator is zero (a CPU time
// under the clock's tick) is left out of a ratio, not printed as the
// overflow of an infinite one.
func TestRatioOfZero(t *testing.T) {
	for _, c := range []struct {
		num, den []float64
		want     string
	}{
		{[]float64{20, 20, 30}, []float64{10, 10, 10}, "2.00× (2.00–3.00)"},
		{[]float64{20, 20, 30}, []float64{10, 0, 10}, "2.50× (2.00–3.00; 2 of 3 rounds)"},
		{[]float64{20, 20}, []float64{0, 0}, "n/a"},
	} {
		if got := ratioString(ratios(c.num, c.den)); got != c.want {
			t.Errorf("ratios(%v, %v): got %q, want %q", c.num, c.den, got, c.want)
		}
	}
}
