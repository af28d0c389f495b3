package akamai

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/akamai/AkamaiOPEN-edgegrid-golang/v11/pkg/edgegrid"

	"github.com/offload-dev/offload/purge"
)

func testClient(tb testing.TB) *Client {
	tb.Helper()
	c, err := New(Options{Config: &edgegrid.Config{Host: "akab-x.luna.akamaiapis.net", ClientToken: "c", ClientSecret: "s", AccessToken: "a"}})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func tenThousandURLs() []purge.Item {
	items := make([]purge.Item, 10000)
	for i := range items {
		items[i] = purge.Item{Kind: purge.KindURL, Value: fmt.Sprintf("https://www.example.com/docs/page-%05d.html", i)}
	}
	return items
}

// The batches are as few as the byte limit allows: no two neighbours could
// have been merged, and every body is within the limit.
func TestBatchesMinimal(t *testing.T) {
	c := testClient(t)
	items := tenThousandURLs()
	bs := c.batches(items, func(i int, err error) { t.Fatalf("item %d: %v", i, err) })
	total, bytes := 0, 0
	for i, b := range bs {
		if len(b.body) > MaxBodyBytes {
			t.Errorf("batch %d: got %d bytes, want at most %d", i, len(b.body), MaxBodyBytes)
		}
		if i+1 < len(bs) {
			// The next batch's first object would not have fitted.
			first := len(jsonString(items[bs[i+1].idx[0]].Value))
			if len(b.body)+1+first <= MaxBodyBytes {
				t.Errorf("batch %d: %d bytes, and the next object (%d bytes) would have fitted", i, len(b.body), first+1)
			}
		}
		total += len(b.idx)
		bytes += len(b.body)
	}
	if total != len(items) {
		t.Errorf("objects: got %d, want %d", total, len(items))
	}
	// A lower bound no packing can beat: all the objects' bytes over the
	// room one body has for them.
	per := len(jsonString(items[0].Value)) + 1
	room := MaxBodyBytes - len(bodyOpen) - len(bodyClose) + 1
	if lower := (len(items)*per + room - 1) / room; len(bs) != lower {
		t.Errorf("requests: got %d, want %d (the lower bound)", len(bs), lower)
	}
}

func BenchmarkBatches10000URLs(b *testing.B) {
	c := testClient(b)
	items := tenThousandURLs()
	var n int
	b.ReportAllocs()
	for b.Loop() {
		n = len(c.batches(items, func(int, error) {}))
	}
	b.ReportMetric(float64(n), "requests")
	b.ReportMetric(float64(len(items))/float64(n), "urls/request")
}

func TestJSONString(t *testing.T) {
	for _, s := range []string{"https://e.com/a b?x=1&y=<2>", `q"uote`, `back\slash`, "tab\t", "é ü", "\u2028", "\x7f", string([]byte{0xff})} {
		var buf strings.Builder
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.Encode(s)
		if got, want := string(jsonString(s)), strings.TrimSuffix(buf.String(), "\n"); got != want {
			t.Errorf("jsonString(%q): got %s, want %s", s, got, want)
		}
	}
}
