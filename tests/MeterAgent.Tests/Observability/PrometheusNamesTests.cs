using System.Diagnostics.Metrics;
using MeterAgent.Observability;

namespace MeterAgent.Tests.Observability;

/// <summary>The OpenTelemetry rule for Prometheus names that turns the agent's instruments into the names of docs/observability.md.</summary>
public sealed class PrometheusNamesTests
{
    [Fact]
    public void Units_and_kinds_become_suffixes()
    {
        using var meter = new Meter("names-test");
        Assert.Equal("meteragent_requests_total", PrometheusNames.Metric(meter.CreateCounter<long>("meteragent.requests", "{request}")));
        Assert.Equal("gen_ai_server_request_duration_seconds", PrometheusNames.Metric(meter.CreateHistogram<double>("gen_ai.server.request.duration", "s")));
        Assert.Equal("gen_ai_client_token_usage", PrometheusNames.Metric(meter.CreateHistogram<long>("gen_ai.client.token.usage", "{token}")));
        Assert.Equal("meteragent_store_wal_bytes", PrometheusNames.Metric(meter.CreateObservableGauge("meteragent.store.wal", () => 1L, "By")));
        Assert.Equal("meteragent_store_write_queue_depth", PrometheusNames.Metric(meter.CreateObservableGauge("meteragent.store.write_queue.depth", () => 1, "{write}")));
        Assert.Equal("gen_ai_token_type", PrometheusNames.Label("gen_ai.token.type"));
    }
}
