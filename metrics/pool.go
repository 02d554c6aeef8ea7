package metrics

import (
	"github.com/latchkey/latchkey"
	"github.com/prometheus/client_golang/prometheus"
)

var (
	poolMaxDesc = prometheus.NewDesc("latchkey_db_pool_max_connections",
		"The most connections the database pool may open.", []string{"pool"}, nil)
	poolConnsDesc = prometheus.NewDesc("latchkey_db_pool_connections",
		"Open database connections, by state (in_use or idle).", []string{"pool", "state"}, nil)
	poolWaitsDesc = prometheus.NewDesc("latchkey_db_pool_waits_total",
		"Connection acquisitions that had to wait for a free connection.", []string{"pool"}, nil)
	poolWaitSecondsDesc = prometheus.NewDesc("latchkey_db_pool_wait_seconds_total",
		"Time spent waiting for a free database connection.", []string{"pool"}, nil)
)

// poolCollector reads a store's pool statistics at each scrape.
type poolCollector struct {
	store latchkey.PoolStatser
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- poolMaxDesc
	ch <- poolConnsDesc
	ch <- poolWaitsDesc
	ch <- poolWaitSecondsDesc
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	for name, st := range c.store.PoolStats() {
		ch <- prometheus.MustNewConstMetric(poolMaxDesc, prometheus.GaugeValue, float64(st.MaxOpen), name)
		ch <- prometheus.MustNewConstMetric(poolConnsDesc, prometheus.GaugeValue, float64(st.InUse), name, "in_use")
		ch <- prometheus.MustNewConstMetric(poolConnsDesc, prometheus.GaugeValue, float64(st.Idle), name, "idle")
		ch <- prometheus.MustNewConstMetric(poolWaitsDesc, prometheus.CounterValue, float64(st.WaitCount), name)
		ch <- prometheus.MustNewConstMetric(poolWaitSecondsDesc, prometheus.CounterValue, st.WaitDuration.Seconds(), name)
	}
}
