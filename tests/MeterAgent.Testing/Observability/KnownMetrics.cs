namespace MeterAgent.Testing;

/// <summary>How Prometheus sees a metric family: what series names it has.</summary>
public enum MetricKind
{
    Counter,
    Gauge,
    Histogram,
}

/// <summary>One metric as scraped from the agent's /metrics: its kind and the labels it carries.</summary>
/// <param name="Name">the family's Prometheus name (a histogram's without _bucket, _sum, _count)</param>
/// <param name="Kind">counter, gauge or histogram</param>
/// <param name="Labels">its own labels (a histogram's buckets also have le)</param>
public sealed record KnownMetric(string Name, MetricKind Kind, IReadOnlyList<string> Labels);

/// <summary>
/// The metrics the dashboards and alert rules may read: the agent's own (the contract between the metrics, dashboards
/// and alerts work of issue 9), prometheus-net's process collectors, the .NET System.Runtime meter as prometheus-net's
/// meter adapter names it, and Prometheus's own <c>up</c>. A panel or rule that reads anything else fails a test, so a
/// name or label typo is caught here, before a real Prometheus shows an empty panel.
/// </summary>
public static class KnownMetrics
{
    /// <summary>Labels Prometheus adds to every scraped series.</summary>
    public static readonly IReadOnlyList<string> TargetLabels = ["instance", "job"];

    public static readonly IReadOnlyList<KnownMetric> All =
    [
        // Requests: one settlement observer call per settled request.
        new("meteragent_requests_total", MetricKind.Counter, ["surface", "model", "status", "status_class"]),
        new("gen_ai_server_request_duration_seconds", MetricKind.Histogram, ["surface", "model", "status_class"]),
        new("gen_ai_server_time_to_first_token_seconds", MetricKind.Histogram, ["surface", "model"]),
        new("gen_ai_client_token_usage", MetricKind.Histogram, ["surface", "model", "gen_ai_token_type"]),
        new("meteragent_tokens_total", MetricKind.Counter, ["surface", "model", "token_type", "basis"]),
        new("meteragent_proxy_overhead_seconds", MetricKind.Histogram, ["surface"]),
        new("meteragent_refusals_total", MetricKind.Counter, ["surface", "status_code", "reason"]),

        // Credits.
        new("meteragent_credit_units_redeemed_total", MetricKind.Counter, ["contract", "account"]),
        new("meteragent_credit_units_overage_total", MetricKind.Counter, ["contract", "account"]),
        new("meteragent_credit_units_available", MetricKind.Gauge, ["contract"]),
        new("meteragent_credit_units_pending", MetricKind.Gauge, ["contract"]),
        new("meteragent_reservations_total", MetricKind.Counter, ["outcome"]),
        new("meteragent_reservations_pending", MetricKind.Gauge, []),

        // Store.
        new("meteragent_store_write_queue_depth", MetricKind.Gauge, []),
        new("meteragent_store_commit_batch_size", MetricKind.Histogram, []),
        new("meteragent_store_commit_duration_seconds", MetricKind.Histogram, []),
        new("meteragent_store_wal_bytes", MetricKind.Gauge, []),
        new("meteragent_store_open_records", MetricKind.Gauge, []),

        // Distributed mode (Store:Kind=redis) only.
        new("meteragent_redis_up", MetricKind.Gauge, []),
        new("meteragent_settle_outbox_pending", MetricKind.Gauge, []),

        // Attestation.
        new("meteragent_log_entries", MetricKind.Gauge, []),
        new("meteragent_log_published_size", MetricKind.Gauge, []),
        new("meteragent_log_append_backlog", MetricKind.Gauge, []),
        new("meteragent_log_statements_total", MetricKind.Counter, ["kind"]),
        new("meteragent_log_witness_cosignatures_total", MetricKind.Counter, ["result"]),

        // prometheus-net's process collectors.
        new("process_cpu_seconds_total", MetricKind.Counter, []),
        new("process_working_set_bytes", MetricKind.Gauge, []),
        new("process_num_threads", MetricKind.Gauge, []),
        new("process_open_handles", MetricKind.Gauge, []),
        new("process_start_time_seconds", MetricKind.Gauge, []),
        new("dotnet_total_memory_bytes", MetricKind.Gauge, []),
        new("dotnet_collection_count_total", MetricKind.Counter, ["generation"]),

        // The System.Runtime meter through prometheus-net's meter adapter ("System.Runtime" + "dotnet.gc.pause.time"
        // lower-cased, dots to underscores; its counters are exposed as gauges that only grow).
        new("system_runtime_dotnet_gc_pause_time", MetricKind.Gauge, []),
        new("system_runtime_dotnet_gc_last_collection_heap_size", MetricKind.Gauge, ["gc_heap_generation"]),
        new("system_runtime_dotnet_thread_pool_thread_count", MetricKind.Gauge, []),
        new("system_runtime_dotnet_thread_pool_queue_length", MetricKind.Gauge, []),

        // Prometheus's own, per target.
        new("up", MetricKind.Gauge, []),
    ];

    /// <summary>The family a series name belongs to (a histogram's _bucket, _sum and _count included), or null.</summary>
    public static KnownMetric? Find(string seriesName)
    {
        ArgumentNullException.ThrowIfNull(seriesName);
        foreach (var metric in All)
        {
            if (metric.Name == seriesName)
            {
                return metric.Kind == MetricKind.Histogram ? null : metric;
            }

            if (metric.Kind == MetricKind.Histogram
                && seriesName.StartsWith(metric.Name, StringComparison.Ordinal)
                && seriesName[metric.Name.Length..] is "_bucket" or "_sum" or "_count")
            {
                return metric;
            }
        }

        return null;
    }

    /// <summary>The labels a selector of <paramref name="seriesName"/> may match on.</summary>
    public static IReadOnlySet<string> LabelsOf(string seriesName)
    {
        var metric = Find(seriesName) ?? throw new ArgumentException($"unknown metric {seriesName}", nameof(seriesName));
        var labels = metric.Labels.Concat(TargetLabels).ToHashSet(StringComparer.Ordinal);
        if (seriesName.EndsWith("_bucket", StringComparison.Ordinal))
        {
            labels.Add("le");
        }

        return labels;
    }
}
