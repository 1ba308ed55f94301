package serve

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metricsContentType is the Prometheus text exposition format.
const metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

// probabilityBuckets bound a binary model's score.
var probabilityBuckets = []float64{.1, .2, .3, .4, .5, .6, .7, .8, .9, 1}

// predictionBuckets bound a regression model's score.
var predictionBuckets = []float64{-1000, -100, -10, -1, 0, 1, 10, 100, 1000}

// metrics are the server's Prometheus metrics, in a registry of their own
// (prometheus/client_golang).
type metrics struct {
	reg         *prometheus.Registry
	binary      bool
	inflight    prometheus.Gauge
	requests    *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	predictions *prometheus.CounterVec
	score       prometheus.Histogram
}

func newMetrics(m *Model) *metrics {
	mt := &metrics{reg: prometheus.NewRegistry(), binary: m.Output == "probability"}
	mt.inflight = prometheus.NewGauge(prometheus.GaugeOpts{Name: "slipway_inflight_requests", Help: "Requests being served now."})
	info := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "slipway_model_info", Help: "The served model; always 1."}, []string{"digest", "kind"})
	info.WithLabelValues(m.Digest, m.Kind).Set(1)
	mt.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "slipway_requests_total",
		Help: "Requests served by endpoint and status code."}, []string{"endpoint", "code"})
	mt.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "slipway_request_seconds",
		Help: "Request latency in seconds by endpoint.", Buckets: prometheus.DefBuckets}, []string{"endpoint"})
	buckets := predictionBuckets
	if mt.binary {
		buckets = probabilityBuckets
		mt.predictions = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "slipway_predictions_total",
			Help: "Scored records by predicted class at a threshold of 0.5."}, []string{"class"})
		mt.predictions.WithLabelValues("negative")
		mt.predictions.WithLabelValues("positive")
		mt.reg.MustRegister(mt.predictions)
	}
	mt.score = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "slipway_score", Help: "Scores the model returned.", Buckets: buckets})
	mt.reg.MustRegister(mt.inflight, info, mt.requests, mt.latency, mt.score)
	return mt
}

// request records a finished request.
func (mt *metrics) request(endpoint string, code int, seconds float64) {
	mt.requests.WithLabelValues(endpoint, strconv.Itoa(code)).Inc()
	mt.latency.WithLabelValues(endpoint).Observe(seconds)
}

// scores records the scores of served predictions.
func (mt *metrics) scores(p []float64) {
	for _, v := range p {
		mt.score.Observe(v)
		if mt.binary {
			class := "negative"
			if v >= 0.5 {
				class = "positive"
			}
			mt.predictions.WithLabelValues(class).Inc()
		}
	}
}

// handler serves the metrics in the text exposition format.
func (mt *metrics) handler() http.Handler {
	return promhttp.HandlerFor(mt.reg, promhttp.HandlerOpts{})
}
