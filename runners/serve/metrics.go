package serve

import (
	"net/http"
	"strconv"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/slipway-ml/slipway/runners/monitor"
)

// metricsContentType is the Prometheus text exposition format.
const metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

// probabilityBuckets bound a binary model's score.
var probabilityBuckets = []float64{.1, .2, .3, .4, .5, .6, .7, .8, .9, 1}

// predictionBuckets bound a regression model's score.
var predictionBuckets = []float64{-1000, -100, -10, -1, 0, 1, 10, 100, 1000}

// Endpoints, the values of the endpoint label.
const (
	epOther = iota
	epLive
	epReady
	epMetadata
	epModelReady
	epInfer
	epPredict
	epMetrics
	epDrift
	numEndpoints
)

// endpointNames are the endpoint labels, by endpoint.
var endpointNames = [numEndpoints]string{"other", "live", "ready", "metadata", "model_ready", "infer", "predict", "metrics", "drift"}

// commonCodes are the status codes whose counters are cached.
var commonCodes = [...]int{200, 400, 404, 405, 413, 500}

// codeIndex is code's index in commonCodes, or -1.
func codeIndex(code int) int {
	for i, c := range commonCodes {
		if c == code {
			return i
		}
	}
	return -1
}

// metrics are the server's Prometheus metrics, in a registry of their own
// (prometheus/client_golang). The children a request touches are looked
// up once and cached, so recording a request hashes no labels.
type metrics struct {
	reg         *prometheus.Registry
	binary      bool
	inflight    prometheus.Gauge
	requests    *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	score       prometheus.Histogram
	positive    prometheus.Counter
	negative    prometheus.Counter
	counters    [numEndpoints][len(commonCodes)]atomic.Pointer[prometheus.Counter]
	observers   [numEndpoints][len(commonCodes)]atomic.Pointer[prometheus.Observer]
	driftScore  *prometheus.GaugeVec
	driftFlag   *prometheus.GaugeVec
	driftShare  prometheus.Gauge
	datasetFlag prometheus.Gauge
	driftRun    prometheus.Gauge
	driftErrors prometheus.Counter
	// driftMethods are the method labels of the score gauges, by
	// feature; only the comparison goroutine touches it.
	driftMethods map[string]string
}

func newMetrics(m *Model) *metrics {
	mt := &metrics{reg: prometheus.NewRegistry(), binary: m.Output == "probability"}
	mt.inflight = prometheus.NewGauge(prometheus.GaugeOpts{Name: "slipway_inflight_requests", Help: "Requests being served now."})
	info := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "slipway_model_info", Help: "The served model; always 1."}, []string{"digest", "kind"})
	info.WithLabelValues(m.Digest, m.Kind).Set(1)
	mt.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "slipway_requests_total",
		Help: "Requests served by endpoint and status code."}, []string{"endpoint", "code"})
	mt.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "slipway_request_seconds",
		Help: "Request latency in seconds by endpoint and status code.", Buckets: prometheus.DefBuckets}, []string{"endpoint", "code"})
	buckets := predictionBuckets
	if mt.binary {
		buckets = probabilityBuckets
		predictions := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "slipway_predictions_total",
			Help: "Scored records by predicted class at a threshold of 0.5."}, []string{"class"})
		mt.negative = predictions.WithLabelValues("negative")
		mt.positive = predictions.WithLabelValues("positive")
		mt.reg.MustRegister(predictions)
	}
	mt.score = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "slipway_score", Help: "Scores the model returned.", Buckets: buckets})
	mt.reg.MustRegister(mt.inflight, info, mt.requests, mt.latency, mt.score)
	return mt
}

// addDrift registers the drift gauges; records reports the number of
// records in the live window.
func (mt *metrics) addDrift(records func() float64) {
	mt.driftScore = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "slipway_feature_drift_score",
		Help: "Drift statistic of each input feature, live window against the reference, by the method named (a p-value for ks, chisquare and z)."},
		[]string{"feature", "method"})
	mt.driftFlag = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "slipway_feature_drift_detected",
		Help: "1 when the feature drifted in the last comparison, else 0."}, []string{"feature"})
	mt.driftShare = prometheus.NewGauge(prometheus.GaugeOpts{Name: "slipway_dataset_drift_share",
		Help: "Share of the compared features that drifted in the last comparison."})
	mt.datasetFlag = prometheus.NewGauge(prometheus.GaugeOpts{Name: "slipway_dataset_drift_detected",
		Help: "1 when the share of drifted features reached the dataset threshold in the last comparison, else 0."})
	mt.driftRun = prometheus.NewGauge(prometheus.GaugeOpts{Name: "slipway_drift_last_run_timestamp_seconds",
		Help: "Unix time of the last drift comparison."})
	mt.driftErrors = prometheus.NewCounter(prometheus.CounterOpts{Name: "slipway_drift_errors_total",
		Help: "Drift comparisons that failed (see the log)."})
	window := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "slipway_drift_window_records",
		Help: "Scored records in the live drift window."}, records)
	mt.driftMethods = map[string]string{}
	mt.reg.MustRegister(mt.driftScore, mt.driftFlag, mt.driftShare, mt.datasetFlag, mt.driftRun, mt.driftErrors, window)
}

// drift sets the drift gauges from a report made at unix seconds.
func (mt *metrics) drift(r *monitor.Report, unix float64) {
	for _, f := range r.Features {
		if old, ok := mt.driftMethods[f.Feature]; ok && old != f.Method {
			mt.driftScore.DeleteLabelValues(f.Feature, old)
		}
		mt.driftMethods[f.Feature] = f.Method
		mt.driftScore.WithLabelValues(f.Feature, f.Method).Set(f.Statistic)
		mt.driftFlag.WithLabelValues(f.Feature).Set(flag(f.Drifted))
	}
	mt.driftShare.Set(r.ShareDrifted)
	mt.datasetFlag.Set(flag(r.Drifted))
	mt.driftRun.Set(unix)
}

func flag(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// request records a finished request.
func (mt *metrics) request(endpoint, code int, seconds float64) {
	mt.counter(endpoint, code).Inc()
	mt.observer(endpoint, code).Observe(seconds)
}

// observer returns the latency histogram of endpoint and code.
func (mt *metrics) observer(endpoint, code int) prometheus.Observer {
	i := codeIndex(code)
	if i < 0 {
		return mt.latency.WithLabelValues(endpointNames[endpoint], strconv.Itoa(code))
	}
	o := mt.observers[endpoint][i].Load()
	if o == nil {
		obs := mt.latency.WithLabelValues(endpointNames[endpoint], strconv.Itoa(code))
		o = &obs
		mt.observers[endpoint][i].Store(o)
	}
	return *o
}

// counter returns the request counter of endpoint and code.
func (mt *metrics) counter(endpoint, code int) prometheus.Counter {
	i := codeIndex(code)
	if i < 0 {
		return mt.requests.WithLabelValues(endpointNames[endpoint], strconv.Itoa(code))
	}
	c := mt.counters[endpoint][i].Load()
	if c == nil {
		ctr := mt.requests.WithLabelValues(endpointNames[endpoint], strconv.Itoa(code))
		c = &ctr
		mt.counters[endpoint][i].Store(c)
	}
	return *c
}

// scores records the scores of served predictions.
func (mt *metrics) scores(p []float64) {
	for _, v := range p {
		mt.score.Observe(v)
		if mt.binary {
			if v >= 0.5 {
				mt.positive.Inc()
			} else {
				mt.negative.Inc()
			}
		}
	}
}

// handler serves the metrics in the text exposition format.
func (mt *metrics) handler() http.Handler {
	return promhttp.HandlerFor(mt.reg, promhttp.HandlerOpts{})
}
