package main

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"slices"
	"time"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// canvas draws the report's charts: lines, boxes and text in the 7×13
// bitmap font, which is all a chart needs and keeps the PNG the same from
// run to run for the same figures.
type canvas struct {
	*image.RGBA
}

var (
	white  = color.RGBA{255, 255, 255, 255}
	ink    = color.RGBA{40, 40, 40, 255}
	grid   = color.RGBA{225, 225, 225, 255}
	band   = color.RGBA{242, 242, 242, 255}
	colorA = color.RGBA{31, 119, 180, 255} // run A
	colorB = color.RGBA{230, 120, 20, 255} // run B
	charW  = basicfont.Face7x13.Advance
)

func newCanvas(w, h int) canvas {
	c := canvas{image.NewRGBA(image.Rect(0, 0, w, h))}
	draw.Draw(c, c.Bounds(), image.NewUniform(white), image.Point{}, draw.Src)
	return c
}

// text writes s with its baseline at y, starting at x (align 0), centred
// on x (align 1) or ending at x (align 2).
func (c canvas) text(x, y int, s string, align int, col color.Color) {
	x -= align * len([]rune(s)) * charW / 2
	d := font.Drawer{Dst: c, Src: image.NewUniform(col), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

func (c canvas) fill(r image.Rectangle, col color.Color) {
	draw.Draw(c, r, image.NewUniform(col), image.Point{}, draw.Src)
}

// line draws from (x0, y0) to (x1, y1), w pixels wide; dash > 0 leaves
// gaps of dash pixels every dash pixels.
func (c canvas) line(x0, y0, x1, y1 float64, w int, dash int, col color.Color) {
	n := int(math.Max(math.Abs(x1-x0), math.Abs(y1-y0))) + 1
	for i := 0; i <= n; i++ {
		if dash > 0 && (i/dash)%2 == 1 {
			continue
		}
		t := float64(i) / float64(n)
		x, y := int(math.Round(x0+t*(x1-x0))), int(math.Round(y0+t*(y1-y0)))
		c.fill(image.Rect(x-w/2, y-w/2, x-w/2+w, y-w/2+w), col)
	}
}

// plotArea is a chart's frame: pixels of the plot and the mapping to them.
type plotArea struct {
	image.Rectangle
	x, y func(float64) float64 // value to pixel
}

func (c canvas) frame(p plotArea) {
	c.line(float64(p.Min.X), float64(p.Max.Y), float64(p.Max.X), float64(p.Max.Y), 1, 0, ink)
	c.line(float64(p.Min.X), float64(p.Min.Y), float64(p.Min.X), float64(p.Max.Y), 1, 0, ink)
}

// plotFreshness draws measurement 5: on the left the CDF of time to fresh
// (log scale), on the right the reads that reached MinIO, cumulative,
// over the run.
func plotFreshness(r *freshResult) image.Image {
	const W, H = 1000, 480
	c := newCanvas(W, H)
	c.text(W/2, 22, "Freshness and origin load: MinIO behind Varnish, "+fmt.Sprint(r.Cfg.Updates)+" updates under "+fmt.Sprint(r.Cfg.Rate)+" reads/s", 1, ink)
	legend := func(x int, col color.Color, s string) {
		c.fill(image.Rect(x, 36, x+24, 40), col)
		c.text(x+30, 43, s, 0, ink)
	}
	legend(180, colorA, r.A.Label)
	legend(560, colorB, r.B.Label)

	// Left: share of updates seen fresh within x.
	runs := []struct {
		run *freshRun
		col color.Color
	}{{r.A, colorA}, {r.B, colorB}}
	minD := time.Duration(math.MaxInt64)
	for _, rc := range runs {
		for _, u := range rc.run.Updates {
			if u.Fresh >= 0 {
				minD = min(minD, u.Fresh)
			}
		}
	}
	lo := 0.1 // seconds, the left edge: a power of ten at or below the fastest
	for lo > 0.001 && minD.Seconds() < lo {
		lo /= 10
	}
	hi := 100.0
	for _, rc := range runs {
		for _, u := range rc.run.Updates {
			for u.Fresh.Seconds() > hi {
				hi *= 10
			}
		}
	}
	left := plotArea{Rectangle: image.Rect(70, 80, 470, 400)}
	left.x = func(s float64) float64 {
		s = math.Min(math.Max(s, lo), hi)
		return float64(left.Min.X) + float64(left.Dx())*math.Log10(s/lo)/math.Log10(hi/lo)
	}
	left.y = func(f float64) float64 { return float64(left.Max.Y) - f*float64(left.Dy()) }
	for s := lo; s <= hi*1.0001; s *= 10 {
		x := left.x(s)
		c.line(x, float64(left.Min.Y), x, float64(left.Max.Y), 1, 0, grid)
		c.text(int(x), left.Max.Y+16, fmtSeconds(s), 1, ink)
	}
	for f := 0.0; f <= 1.0001; f += 0.25 {
		y := left.y(f)
		c.line(float64(left.Min.X), y, float64(left.Max.X), y, 1, 0, grid)
		c.text(left.Min.X-6, int(y)+4, fmt.Sprintf("%.0f%%", 100*f), 2, ink)
	}
	ttl := left.x(r.Cfg.ShortTTL.Seconds())
	c.line(ttl, float64(left.Min.Y), ttl, float64(left.Max.Y), 1, 4, colorB)
	c.text(int(ttl)-4, left.Min.Y+14, "B's TTL", 2, colorB)
	win := left.x(r.Window.Seconds())
	c.line(win, float64(left.Min.Y), win, float64(left.Max.Y), 1, 4, colorA)
	c.text(int(win)+4, int(left.y(0.6)), "A's batch window", 0, colorA)
	c.frame(left)
	c.text(left.Min.X+left.Dx()/2, left.Max.Y+34, "time from the PUT returning to the first fresh read", 1, ink)
	c.text(left.Min.X-40, left.Min.Y-12, "updates seen fresh within x", 0, ink)
	for _, rc := range runs {
		var d []float64
		for _, u := range rc.run.Updates {
			if u.Fresh >= 0 {
				d = append(d, u.Fresh.Seconds())
			}
		}
		slices.Sort(d)
		n := float64(len(rc.run.Updates))
		px, py := float64(left.Min.X), left.y(0)
		for i, s := range d {
			x := left.x(s)
			c.line(px, py, x, py, 2, 0, rc.col)
			py2 := left.y(float64(i+1) / n)
			c.line(x, py, x, py2, 2, 0, rc.col)
			px, py = x, py2
		}
		c.line(px, py, float64(left.Max.X), py, 2, 0, rc.col)
	}

	// Right: cumulative GETs that reached MinIO, over the reading time.
	right := plotArea{Rectangle: image.Rect(580, 80, 960, 400)}
	tMax := math.Max(r.A.Elapsed.Seconds(), r.B.Elapsed.Seconds())
	nMax := float64(max(len(r.A.Origin), len(r.B.Origin), 1))
	xStep, yStep := niceStep(tMax), niceStep(nMax)
	tMax, nMax = math.Ceil(tMax/xStep)*xStep, math.Ceil(nMax/yStep)*yStep
	right.x = func(t float64) float64 { return float64(right.Min.X) + float64(right.Dx())*t/tMax }
	right.y = func(n float64) float64 { return float64(right.Max.Y) - float64(right.Dy())*n/nMax }
	if len(r.A.Updates) > 0 {
		u0, u1 := r.A.Updates[0].Put.Seconds(), r.A.Updates[len(r.A.Updates)-1].Put.Seconds()
		c.fill(image.Rect(int(right.x(u0)), right.Min.Y, int(right.x(u1)), right.Max.Y), band)
		c.text(int(right.x((u0+u1)/2)), right.Min.Y+14, "updating", 1, ink)
	}
	for t := 0.0; t <= tMax+1e-9; t += xStep {
		x := right.x(t)
		c.line(x, float64(right.Min.Y), x, float64(right.Max.Y), 1, 0, grid)
		c.text(int(x), right.Max.Y+16, fmt.Sprintf("%.0f s", t), 1, ink)
	}
	for n := 0.0; n <= nMax+1e-9; n += yStep {
		y := right.y(n)
		c.line(float64(right.Min.X), y, float64(right.Max.X), y, 1, 0, grid)
		c.text(right.Min.X-6, int(y)+4, commas(int64(n)), 2, ink)
	}
	c.frame(right)
	c.text(right.Min.X+right.Dx()/2, right.Max.Y+34, "time since reading began", 1, ink)
	c.text(right.Min.X-40, right.Min.Y-12, "reads that reached MinIO, cumulative", 0, ink)
	for _, rc := range runs {
		px, py := right.x(0), right.y(0)
		for i, t := range rc.run.Origin {
			x := right.x(t.Seconds())
			y := right.y(float64(i + 1))
			c.line(px, py, x, py, 2, 0, rc.col)
			c.line(x, py, x, y, 2, 0, rc.col)
			px, py = x, y
		}
		c.line(px, py, right.x(rc.run.Elapsed.Seconds()), py, 2, 0, rc.col)
	}

	a, b := r.A.stats(), r.B.stats()
	c.text(W/2, H-12, fmt.Sprintf("time to fresh p50 / p99: A %s / %s, B %s / %s;  reads reaching MinIO: A %s, B %s",
		fmtDur(a.P50), fmtDur(a.P99), fmtDur(b.P50), fmtDur(b.P99), pct(a.Origin, a.Reads), pct(b.Origin, b.Reads)), 1, ink)
	return c.RGBA
}

// niceStep is a round step (1, 2 or 5 times a power of ten) for about six
// ticks up to max.
func niceStep(max float64) float64 {
	raw := max / 6
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

func fmtSeconds(s float64) string {
	if s < 1 {
		return fmt.Sprintf("%.0f ms", s*1000)
	}
	return fmt.Sprintf("%.0f s", s)
}
