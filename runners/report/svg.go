package report

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/slipway-ml/slipway/runners/train/metrics"
)

// maxPlotPoints bounds the points drawn per curve, so that a runner that
// forgot to downsample still gets a page of sensible size.
const maxPlotPoints = 500

// The geometry of a curve chart, in SVG user units: the plot area spans
// [plotLeft, plotRight] × [plotTop, plotBottom] and maps [0, 1]².
const (
	chartWidth  = 320
	chartHeight = 330
	plotLeft    = 56.0
	plotRight   = 306.0
	plotTop     = 30.0
	plotBottom  = 280.0
)

// curveChart is a line chart of a curve on [0, 1]², ready for the template:
// every number is already a formatted, finite coordinate.
type curveChart struct {
	ID, Title, XLabel, YLabel string
	Width, Height             int
	// Frame is the plot area: X, Y, W, H.
	Frame [4]string
	// Ticks are the grid lines and labels of both axes.
	XTicks, YTicks []tick
	// Path is the curve as an SVG path; empty when no point is finite.
	Path string
	// Reference is a dashed reference line (ROC's diagonal, the PR
	// baseline), or nil.
	Reference *line
	// ReferenceLabel names the reference line.
	ReferenceLabel string
	// Marker is the operating point at the confusion threshold, or nil.
	Marker *marker
	// Points is the number of points drawn.
	Points int
	// XLabelX, XLabelY, YLabelX, YLabelY place the axis labels.
	XLabelX, XLabelY, YLabelX, YLabelY, TitleX string
}

// tick is one grid line with its label; X1..Y2 are the grid line's ends
// and LX, LY the label's position.
type tick struct {
	X1, Y1, X2, Y2, LX, LY, Label string
}

// line is a straight segment.
type line struct{ X1, Y1, X2, Y2 string }

// marker is a labelled point.
type marker struct{ CX, CY, Label string }

// coord formats an SVG coordinate; callers guarantee it is finite.
func coord(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// finite reports whether v is neither NaN nor infinite.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// unitX maps a value of [0, 1] to the plot area's x, clamping values
// outside; ok is false for a non-finite value.
func unitX(v float64) (float64, bool) {
	return plotLeft + min(max(v, 0), 1)*(plotRight-plotLeft), finite(v)
}

// unitY is unitX for y, which grows downwards in SVG.
func unitY(v float64) (float64, bool) {
	return plotBottom - min(max(v, 0), 1)*(plotBottom-plotTop), finite(v)
}

// newCurveChart lays out a chart of points; points with a non-finite
// coordinate are left out.
func newCurveChart(id, title, xLabel, yLabel string, points []metrics.CurvePoint) *curveChart {
	c := &curveChart{
		ID: id, Title: xmlText(title), XLabel: xLabel, YLabel: yLabel,
		Width: chartWidth, Height: chartHeight,
		Frame:   [4]string{coord(plotLeft), coord(plotTop), coord(plotRight - plotLeft), coord(plotBottom - plotTop)},
		XLabelX: coord((plotLeft + plotRight) / 2), XLabelY: coord(chartHeight - 8),
		YLabelX: coord(14), YLabelY: coord((plotTop + plotBottom) / 2),
		TitleX: coord(chartWidth / 2),
	}
	for i := 0; i <= 5; i++ {
		v := float64(i) / 5
		label := strconv.FormatFloat(v, 'f', 1, 64)
		x, _ := unitX(v)
		y, _ := unitY(v)
		c.XTicks = append(c.XTicks, tick{
			X1: coord(x), Y1: coord(plotTop), X2: coord(x), Y2: coord(plotBottom + 4),
			LX: coord(x), LY: coord(plotBottom + 17), Label: label,
		})
		c.YTicks = append(c.YTicks, tick{
			X1: coord(plotLeft - 4), Y1: coord(y), X2: coord(plotRight), Y2: coord(y),
			LX: coord(plotLeft - 7), LY: coord(y + 4), Label: label,
		})
	}
	finitePoints := make([]metrics.CurvePoint, 0, len(points))
	for _, p := range points {
		if finite(p.X) && finite(p.Y) {
			finitePoints = append(finitePoints, p)
		}
	}
	var b strings.Builder
	for i, p := range metrics.Downsample(finitePoints, maxPlotPoints) {
		x, _ := unitX(p.X)
		y, _ := unitY(p.Y)
		if i == 0 {
			b.WriteString("M")
		} else {
			b.WriteString(" L")
		}
		b.WriteString(coord(x) + " " + coord(y))
		c.Points++
	}
	c.Path = b.String()
	return c
}

// setReference draws a dashed line from (x1, y1) to (x2, y2) in curve
// units, unless a coordinate is not finite.
func (c *curveChart) setReference(label string, x1, y1, x2, y2 float64) {
	ax, ok1 := unitX(x1)
	ay, ok2 := unitY(y1)
	bx, ok3 := unitX(x2)
	by, ok4 := unitY(y2)
	if ok1 && ok2 && ok3 && ok4 {
		c.Reference = &line{coord(ax), coord(ay), coord(bx), coord(by)}
		c.ReferenceLabel = label
	}
}

// setMarker marks the point (x, y) in curve units, unless a coordinate is
// not finite.
func (c *curveChart) setMarker(label string, x, y float64) {
	cx, okx := unitX(x)
	cy, oky := unitY(y)
	if okx && oky {
		c.Marker = &marker{coord(cx), coord(cy), xmlText(label)}
	}
}

// Geometry of the importance bar chart.
const (
	barLabelWidth = 230.0
	barMaxWidth   = 280.0
	barRowHeight  = 20.0
	barChartWidth = 600
	// maxBars is the number of features drawn; the rest are counted.
	maxBars = 25
	// barLabelRunes is the length feature names are cut to.
	barLabelRunes = 32
)

// barChart is a horizontal bar chart of feature importance.
type barChart struct {
	Width, Height int
	Bars          []bar
	// Hidden is the number of features left out of the chart.
	Hidden int
}

// bar is one feature's bar: the label at (LX, Y+13), the bar at (X, Y)
// of width W.
type bar struct {
	Feature, Label, Value     string
	LX, X, Y, W, H, VX, TextY string
}

// newBarChart lays out the importance of features, the largest first
// (ties by name); non-finite values get an empty bar, and negative values
// too (bars show positive importance only).
func newBarChart(imp []Importance) *barChart {
	sorted := slices.Clone(imp)
	key := func(v float64) float64 {
		if !finite(v) {
			return math.Inf(-1)
		}
		return v
	}
	slices.SortStableFunc(sorted, func(a, b Importance) int {
		if c := cmp.Compare(key(b.Value), key(a.Value)); c != 0 {
			return c
		}
		return strings.Compare(a.Feature, b.Feature)
	})
	total, top := 0.0, 0.0
	for _, i := range sorted {
		if finite(i.Value) && i.Value > 0 {
			total += i.Value
			top = max(top, i.Value)
		}
	}
	c := &barChart{Width: barChartWidth}
	if len(sorted) > maxBars {
		c.Hidden = len(sorted) - maxBars
		sorted = sorted[:maxBars]
	}
	for k, i := range sorted {
		y := 4 + float64(k)*barRowHeight
		w := 0.0
		if finite(i.Value) && i.Value > 0 && finite(top) && top > 0 {
			w = barMaxWidth * (i.Value / top)
		}
		value := sig4(i.Value)
		if finite(i.Value) && i.Value > 0 && finite(total) && total > 0 {
			value += " (" + rate(i.Value/total) + ")"
		}
		c.Bars = append(c.Bars, bar{
			Feature: xmlText(i.Feature),
			Label:   xmlText(shorten(i.Feature, barLabelRunes)),
			Value:   value,
			LX:      coord(barLabelWidth - 6),
			X:       coord(barLabelWidth),
			Y:       coord(y),
			W:       coord(w),
			H:       coord(barRowHeight - 6),
			VX:      coord(barLabelWidth + w + 5),
			TextY:   coord(y + 11),
		})
	}
	c.Height = int(8 + float64(len(c.Bars))*barRowHeight)
	return c
}
