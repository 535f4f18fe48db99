/**
 * Counters for the Prometheus endpoint. Updating a metric is a few additions: safe on the hot path.
 *
 * @module
 */

/** The status logged and counted when the client went away before the answer (nginx's). */
export const CLIENT_CLOSED = 499;

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

  /**
   * Records a proxied response status and its time to response head, in seconds. 499 (the client
   * went away before the answer) is counted apart from the 4xx the service or hubify answered.
   */
  observe(status: number, seconds: number): void {
    const k = status === CLIENT_CLOSED ? "499" : `${Math.floor(status / 100)}xx`;
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
    const family = (name: string, type: string, help: string, samples: string[]) =>
      l.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples);
    const labelled = (name: string, label: string, values: Record<string, number>) =>
      Object.entries(values).map(([k, v]) => `${name}{${label}="${k}"} ${v}`);
    const latency = "hubify_proxy_latency_seconds";
    family(
      "hubify_requests_total",
      "counter",
      "Proxied HTTP requests by status class; 499: the client went away first.",
      labelled("hubify_requests_total", "code", this.byClass),
    );
    family(latency, "histogram", "Time from request to the service's response head.", [
      ...BUCKETS.map((b, i) => `${latency}_bucket{le="${b}"} ${this.buckets[i]}`),
      `${latency}_bucket{le="+Inf"} ${this.latencyCount}`,
      `${latency}_sum ${this.latencySum}`,
      `${latency}_count ${this.latencyCount}`,
    ]);
    family("hubify_websockets_open", "gauge", "Open proxied WebSocket connections.", [
      `hubify_websockets_open ${this.wsOpen}`,
    ]);
    family("hubify_websockets_total", "counter", "Proxied WebSocket connections.", [
      `hubify_websockets_total ${this.wsTotal}`,
    ]);
    family(
      "hubify_bytes_total",
      "counter",
      "Bytes relayed (in: from clients, out: to clients).",
      labelled("hubify_bytes_total", "direction", { in: this.bytesIn, out: this.bytesOut }),
    );
    family(
      "hubify_service_restarts_total",
      "counter",
      "Service restarts.",
      labelled("hubify_service_restarts_total", "service", extra.restarts),
    );
    family(
      "hubify_service_up",
      "gauge",
      "Whether the service is ready.",
      labelled(
        "hubify_service_up",
        "service",
        Object.fromEntries(Object.entries(extra.up).map(([k, v]) => [k, v ? 1 : 0])),
      ),
    );
    family(
      "hubify_upstream_connections",
      "gauge",
      "Open connections to the service.",
      labelled("hubify_upstream_connections", "service", extra.upstreamConns),
    );
    return l.join("\n") + "\n";
  }
}
