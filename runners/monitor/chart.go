package monitor

import (
	"math"
	"strconv"

	"github.com/slipway-ml/slipway/runners/drift"
)

// Geometry of a distribution chart, in SVG user units.
const (
	chartWidth  = 560
	chartHeight = 230
	plotLeft    = 52.0
	plotRight   = 548.0
	plotTop     = 34.0
	plotBottom  = 182.0
	// maxGroups is the number of bins or categories drawn; the rest are
	// counted in the caption.
	maxGroups = 40
	// maxLabels is the number of categories that get a label under their
	// bars; with more, the bars' tooltips name them.
	maxLabels = 12
	// labelRunes is the length category labels are cut to.
	labelRunes = 10
)

// chart is a grouped bar chart of one feature's reference and current
// shares per bin or category; every number is a formatted, finite
// coordinate.
type chart struct {
	Title         string
	Width, Height int
	Frame         [4]string
	YTicks        []tick
	XLabels       []label
	Groups        []group
	// Hidden is the number of categories left out.
	Hidden int
	// Legend positions: reference swatch and text, current swatch and
	// text.
	LegendY, LegendTextY, RefX, RefTextX, CurX, CurTextX, AxisY string
	// XTitle names the horizontal axis.
	XTitle, XTitleX, XTitleY string
}

// tick is a horizontal grid line with its label.
type tick struct{ X1, X2, Y, LX, LY, Label string }

// label is a text under the plot.
type label struct{ X, Y, Text string }

// group is one bin or category: a reference and a current bar.
type group struct {
	Name                   string
	RefX, CurX, W          string
	RefY, RefH, CurY, CurH string
	RefShare, CurShare     string
}

func coord(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// newChart lays out the distribution of a result, or returns nil when it
// has no bins.
func newChart(r drift.Result) *chart {
	n := min(len(r.Reference), len(r.Current))
	if n == 0 {
		return nil
	}
	numeric := len(r.Edges) == n+1
	c := &chart{
		Title: text(r.Feature), Width: chartWidth, Height: chartHeight,
		Frame:   [4]string{coord(plotLeft), coord(plotTop), coord(plotRight - plotLeft), coord(plotBottom - plotTop)},
		LegendY: coord(10), LegendTextY: coord(19),
		RefX: coord(plotRight - 170), RefTextX: coord(plotRight - 156),
		CurX: coord(plotRight - 80), CurTextX: coord(plotRight - 66),
		AxisY:   coord(plotBottom),
		XTitleX: coord((plotLeft + plotRight) / 2), XTitleY: coord(chartHeight - 4),
	}
	if numeric {
		c.XTitle = "value (bins)"
	} else {
		c.XTitle = "category"
	}
	shown := n
	if !numeric && n > maxGroups {
		shown, c.Hidden = maxGroups, n-maxGroups
	}
	top := 0.0
	for i := range shown {
		if finite(r.Reference[i]) {
			top = max(top, r.Reference[i])
		}
		if finite(r.Current[i]) {
			top = max(top, r.Current[i])
		}
	}
	// The axis ends at the next grid step above the largest share.
	step := 0.2
	switch {
	case top <= 0.2:
		step = 0.05
	case top <= 0.5:
		step = 0.1
	}
	ticks := max(1, int(math.Ceil(top/step-1e-9)))
	top = float64(ticks) * step
	for i := 0; i <= ticks; i++ {
		v := float64(i) * step
		y := plotBottom - v/top*(plotBottom-plotTop)
		c.YTicks = append(c.YTicks, tick{
			X1: coord(plotLeft - 4), X2: coord(plotRight), Y: coord(y),
			LX: coord(plotLeft - 7), LY: coord(y + 4), Label: strconv.FormatFloat(100*v, 'f', 0, 64) + "%",
		})
	}
	width := (plotRight - plotLeft) / float64(shown)
	height := func(v float64) float64 {
		if !finite(v) || v <= 0 {
			return 0
		}
		return min(v, top) / top * (plotBottom - plotTop)
	}
	for i := range shown {
		x := plotLeft + float64(i)*width
		name := ""
		if numeric {
			name = "[" + num(r.Edges[i]) + ", " + num(r.Edges[i+1])
			if i == n-1 {
				name += "]"
			} else {
				name += ")"
			}
		} else if i < len(r.Categories) {
			name = text(r.Categories[i])
		}
		rh, ch := height(r.Reference[i]), height(r.Current[i])
		c.Groups = append(c.Groups, group{
			Name: name,
			RefX: coord(x + 0.1*width), CurX: coord(x + 0.5*width), W: coord(0.4 * width),
			RefY: coord(plotBottom - rh), RefH: coord(rh), CurY: coord(plotBottom - ch), CurH: coord(ch),
			RefShare: shareOf(r.Reference[i]), CurShare: shareOf(r.Current[i]),
		})
		if !numeric && shown <= maxLabels {
			c.XLabels = append(c.XLabels, label{X: coord(x + width/2), Y: coord(plotBottom + 16), Text: cut(name, labelRunes)})
		}
	}
	if numeric {
		for _, i := range []int{0, n / 2, n} {
			c.XLabels = append(c.XLabels, label{X: coord(plotLeft + float64(i)*width), Y: coord(plotBottom + 16), Text: num(r.Edges[i])})
		}
		if n == 1 {
			c.XLabels = []label{c.XLabels[0], c.XLabels[2]}
		}
	}
	return c
}

func shareOf(v float64) string {
	if !finite(v) {
		return "—"
	}
	return share(v)
}

// cut shortens s to n runes, marking a cut with an ellipsis.
func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
