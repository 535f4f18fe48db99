/**
 * Counters for the Prometheus endpoint. Updating a metric is a few additions: safe on the hot path.
 *
 * @module
 */

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Process-wide proxy metrics.
 *
 * @example
 * ```ts
 * const m = new Metrics();
 * m.observe(200, 0.004);
 * m.render({ restarts: { app: 0 } });
 * ```
 */
export class Metrics {
  byClass: Record<string, number> = { "1xx": 0, "2xx": 0, "3xx": 0, "4xx": 0, "5xx": 0 };
  buckets = new Array(BUCKETS.length).fill(0);
  latencySum = 0;
  latencyCount = 0;
  wsOpen = 0;
  wsTotal = 0;
  bytesIn = 0;
  bytesOut = 0;

  /** Records a proxied response status and its time to response head, in seconds. */
  observe(status: number, seconds: number): void {
    const k = `${Math.floor(status / 100)}xx`;
    this.byClass[k] = (this.byClass[k] ?? 0) + 1;
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]) this.buckets[i]++;
    this.latencySum += seconds;
    this.latencyCount++;
  }

  /** Adds relayed bytes. */
  bytes(dir: "in" | "out", n: number): void {
    if (dir === "in") this.bytesIn += n;
    else this.bytesOut += n;
  }

  /** Prometheus text exposition. */
  render(
    extra: {
      restarts: Record<string, number>;
      up: Record<string, boolean>;
      upstreamConns: Record<string, number>;
    },
  ): string {
    const l: string[] = [];
    l.push(
      "# HELP hubify_requests_total Proxied HTTP requests by status class.",
      "# TYPE hubify_requests_total counter",
    );
    for (const [k, v] of Object.entries(this.byClass)) {
      l.push(`hubify_requests_total{code="${k}"} ${v}`);
    }
    l.push(
      "# HELP hubify_proxy_latency_seconds Time from request to the service's response head.",
      "# TYPE hubify_proxy_latency_seconds histogram",
    );
    BUCKETS.forEach((b, i) =>
      l.push(`hubify_proxy_latency_seconds_bucket{le="${b}"} ${this.buckets[i]}`)
    );
    l.push(`hubify_proxy_latency_seconds_bucket{le="+Inf"} ${this.latencyCount}`);
    l.push(
      `hubify_proxy_latency_seconds_sum ${this.latencySum}`,
      `hubify_proxy_latency_seconds_count ${this.latencyCount}`,
    );
    l.push(
      "# HELP hubify_websockets_open Open proxied WebSocket connections.",
      "# TYPE hubify_websockets_open gauge",
    );
    l.push(`hubify_websockets_open ${this.wsOpen}`);
    l.push(
      "# HELP hubify_websockets_total Proxied WebSocket connections.",
      "# TYPE hubify_websockets_total counter",
    );
    l.push(`hubify_websockets_total ${this.wsTotal}`);
    l.push(
      "# HELP hubify_bytes_total Bytes relayed (in: from clients, out: to clients).",
      "# TYPE hubify_bytes_total counter",
    );
    l.push(
      `hubify_bytes_total{direction="in"} ${this.bytesIn}`,
      `hubify_bytes_total{direction="out"} ${this.bytesOut}`,
    );
    l.push(
      "# HELP hubify_service_restarts_total Service restarts.",
      "# TYPE hubify_service_restarts_total counter",
    );
    for (const [k, v] of Object.entries(extra.restarts)) {
      l.push(`hubify_service_restarts_total{service="${k}"} ${v}`);
    }
    l.push(
      "# HELP hubify_service_up Whether the service is ready.",
      "# TYPE hubify_service_up gauge",
    );
    for (const [k, v] of Object.entries(extra.up)) {
      l.push(`hubify_service_up{service="${k}"} ${v ? 1 : 0}`);
    }
    l.push(
      "# HELP hubify_upstream_connections Open connections to the service.",
      "# TYPE hubify_upstream_connections gauge",
    );
    for (const [k, v] of Object.entries(extra.upstreamConns)) {
      l.push(`hubify_upstream_connections{service="${k}"} ${v}`);
    }
    return l.join("\n") + "\n";
  }
}
