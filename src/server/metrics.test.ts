import assert from "node:assert/strict";
import { Metrics } from "./metrics.ts";

Deno.test("Metrics.render: every family has HELP and TYPE first; buckets are cumulative", () => {
  const m = new Metrics();
  m.observe(200, 0.004);
  m.observe(502, 1.5);
  m.wsOpen = 2;
  m.wsTotal = 5;
  m.bytes("in", 10);
  m.bytes("out", 20);
  const text = m.render({
    restarts: { app: 1, db: 0 },
    up: { app: true, db: false },
    upstreamConns: { app: 3, db: 0 },
  });
  assert.ok(text.endsWith("\n"));
  const lines = text.trimEnd().split("\n");
  const families = lines.filter((l) => l.startsWith("# TYPE ")).map((l) => l.split(" ")[2]);
  assert.deepEqual(families, [
    "hubify_requests_total",
    "hubify_proxy_latency_seconds",
    "hubify_websockets_open",
    "hubify_websockets_total",
    "hubify_bytes_total",
    "hubify_service_restarts_total",
    "hubify_service_up",
    "hubify_upstream_connections",
  ]);
  for (const name of families) {
    const help = lines.findIndex((l) => l.startsWith(`# HELP ${name} `));
    assert.equal(lines[help + 1].startsWith(`# TYPE ${name} `), true, name);
    assert.equal(lines[help + 2].startsWith(name), true, `${name}: a sample follows`);
  }
  for (
    const sample of [
      'hubify_requests_total{code="2xx"} 1',
      'hubify_requests_total{code="5xx"} 1',
      'hubify_proxy_latency_seconds_bucket{le="0.0025"} 0',
      'hubify_proxy_latency_seconds_bucket{le="0.005"} 1',
      'hubify_proxy_latency_seconds_bucket{le="1"} 1',
      'hubify_proxy_latency_seconds_bucket{le="2.5"} 2',
      'hubify_proxy_latency_seconds_bucket{le="+Inf"} 2',
      "hubify_proxy_latency_seconds_sum 1.504",
      "hubify_proxy_latency_seconds_count 2",
      "hubify_websockets_open 2",
      "hubify_websockets_total 5",
      'hubify_bytes_total{direction="in"} 10',
      'hubify_bytes_total{direction="out"} 20',
      'hubify_service_restarts_total{service="app"} 1',
      'hubify_service_up{service="app"} 1',
      'hubify_service_up{service="db"} 0',
      'hubify_upstream_connections{service="app"} 3',
    ]
  ) assert.ok(lines.includes(sample), sample);
});
