package web

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/openmini/openmini/jobs"
	"github.com/openmini/openmini/sqldb"
)

// metrics holds this server's Prometheus registry (no global registry).
type metrics struct {
	mu       sync.RWMutex
	series   map[seriesKey]series
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newMetrics(db *sqldb.DB, q *jobs.Queue) *metrics {
	m := &metrics{reg: prometheus.NewRegistry(), series: map[seriesKey]series{}}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "openmini_http_requests_total",
		Help: "HTTP requests by route pattern, method and status code.",
	}, []string{"route", "method", "code"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "openmini_http_request_duration_seconds",
		Help:    "HTTP request latency by route pattern.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
	}, []string{"route"})
	m.reg.MustRegister(m.requests, m.latency,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	if db != nil {
		m.reg.MustRegister(collectors.NewDBStatsCollector(db.WritePool(), "write"))
		if db.ReadPool() != db.WritePool() {
			m.reg.MustRegister(collectors.NewDBStatsCollector(db.ReadPool(), "read"))
		}
		m.reg.MustRegister(&jobCollector{db: db, q: q})
	}
	return m
}

// series are the counter and histogram of one route, method and status,
// looked up once: a request then costs two atomic updates.
type series struct {
	count   prometheus.Counter
	latency prometheus.Observer
}

type seriesKey struct {
	route, method string
	status        int
}

func (m *metrics) observe(route, method string, status int, d time.Duration) {
	k := seriesKey{route, method, status}
	m.mu.RLock()
	sr, ok := m.series[k]
	m.mu.RUnlock()
	if !ok {
		sr = series{m.requests.WithLabelValues(route, method, strconv.Itoa(status)), m.latency.WithLabelValues(route)}
		m.mu.Lock()
		if len(m.series) < 10000 {
			m.series[k] = sr
		}
		m.mu.Unlock()
	}
	sr.count.Inc()
	sr.latency.Observe(d.Seconds())
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// jobCollector reports the durable job queue: jobs by state (shared by all
// replicas) and this replica's processed and failed counts.
type jobCollector struct {
	db *sqldb.DB
	q  *jobs.Queue
}

var (
	jobsDesc      = prometheus.NewDesc("openmini_jobs", "Jobs in the durable queue by state (all replicas).", []string{"state"}, nil)
	jobsProcessed = prometheus.NewDesc("openmini_jobs_processed_total", "Jobs this replica finished successfully.", nil, nil)
	jobsFailed    = prometheus.NewDesc("openmini_jobs_failed_attempts_total", "Job attempts that failed on this replica.", nil, nil)
)

func (c *jobCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- jobsDesc
	ch <- jobsProcessed
	ch <- jobsFailed
}

func (c *jobCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if counts, err := jobs.Counts(ctx, c.db); err == nil {
		for state, n := range counts {
			ch <- prometheus.MustNewConstMetric(jobsDesc, prometheus.GaugeValue, float64(n), state)
		}
	}
	if c.q != nil {
		ch <- prometheus.MustNewConstMetric(jobsProcessed, prometheus.CounterValue, float64(c.q.Processed.Load()))
		ch <- prometheus.MustNewConstMetric(jobsFailed, prometheus.CounterValue, float64(c.q.Failed.Load()))
	}
}
