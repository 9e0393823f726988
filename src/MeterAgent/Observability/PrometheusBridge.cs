using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Prometheus;

namespace MeterAgent.Observability;

/// <summary>
/// Feeds the agent's <see cref="System.Diagnostics.Metrics"/> instruments into a prometheus-net registry under the
/// contract's names and types: a counter is a Prometheus counter named <c>..._total</c>, a histogram keeps the buckets
/// its instrument advises, a gauge is read at each scrape.
/// </summary>
/// <remarks>
/// prometheus-net's own MeterAdapter is not used for these: it prefixes every name with the meter's name
/// (<c>meteragent_meteragent_requests</c>), exports counters as gauges and drops a series after minutes without an
/// update, which would break every dashboard and alert built on docs/observability.md. It still serves the runtime's
/// meter (<see cref="MetricsExport"/>). A measurement here finds its series by its label values' identity (see
/// <see cref="CachedBinding{TChild}"/>), without allocating once the series exists.
/// </remarks>
internal sealed class PrometheusBridge : IDisposable
{
    private readonly MeterListener _listener = new();
    private volatile bool _disposed;

    /// <param name="registry">where the metrics are published</param>
    /// <param name="include">which instruments to bridge (the host's own meter)</param>
    public PrometheusBridge(CollectorRegistry registry, Func<Instrument, bool> include)
    {
        ArgumentNullException.ThrowIfNull(registry);
        var factory = Metrics.WithCustomRegistry(registry);
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (include(instrument))
            {
                listener.EnableMeasurementEvents(instrument, new BridgedInstrument(factory, instrument));
            }
        };
        _listener.SetMeasurementEventCallback<long>(static (_, value, tags, state) => ((BridgedInstrument)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<int>(static (_, value, tags, state) => ((BridgedInstrument)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<double>(static (_, value, tags, state) => ((BridgedInstrument)state!).Record(value, tags));
        _listener.Start();

        // Gauges are read when Prometheus scrapes, not on a timer of their own.
        registry.AddBeforeCollectCallback(() =>
        {
            if (!_disposed)
            {
                try
                {
                    _listener.RecordObservableInstruments();
                }
                catch (AggregateException)
                {
                    // A gauge whose reading failed is left out of this scrape; the others are already recorded.
                }
            }
        });
    }

    public void Dispose()
    {
        _disposed = true;
        _listener.Dispose();
    }

    /// <summary>One instrument's Prometheus metric, created at its first measurement (which fixes its label names).</summary>
    private sealed class BridgedInstrument(MetricFactory factory, Instrument instrument)
    {
        private const int MaxLabels = 16;

        [ThreadStatic]
        private static string[]? t_values;

        private readonly Lock _lock = new();
        private volatile Binding? _binding;

        public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var binding = _binding ?? Bind(tags);
            var keys = binding.TagKeys;
            var values = t_values ??= new string[MaxLabels];
            for (var i = 0; i < keys.Length; i++)
            {
                values[i] = ValueOf(tags, keys[i], i);
            }

            try
            {
                binding.Record(values.AsSpan(0, keys.Length), value);
            }
            catch (ArgumentException)
            {
                // A negative counter increment or a bad label value: dropped rather than breaking the instrument.
            }
        }

        private Binding Bind(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            lock (_lock)
            {
                if (_binding is { } bound)
                {
                    return bound;
                }

                var keys = new string[Math.Min(tags.Length, MaxLabels)];
                for (var i = 0; i < keys.Length; i++)
                {
                    keys[i] = tags[i].Key;
                }

                var binding = Binding.Create(factory, instrument, keys);
                _binding = binding;
                return binding;
            }
        }

        // The agent passes its tags in one order, so the first guess is right; another order or a missing tag still works.
        private static string ValueOf(ReadOnlySpan<KeyValuePair<string, object?>> tags, string key, int guess)
        {
            if (guess < tags.Length && string.Equals(tags[guess].Key, key, StringComparison.Ordinal))
            {
                return Text(tags[guess].Value);
            }

            foreach (var tag in tags)
            {
                if (string.Equals(tag.Key, key, StringComparison.Ordinal))
                {
                    return Text(tag.Value);
                }
            }

            return string.Empty;
        }

        private static string Text(object? value) =>
            value as string ?? Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty;
    }

    /// <summary>The Prometheus collector of one instrument and how a measurement updates it.</summary>
    private abstract class Binding(string[] tagKeys)
    {
        public string[] TagKeys { get; } = tagKeys;

        public static Binding Create(MetricFactory factory, Instrument instrument, string[] tagKeys)
        {
            var name = PrometheusNames.Metric(instrument);
            var help = string.IsNullOrEmpty(instrument.Description) ? instrument.Name : instrument.Description;
            var labels = Array.ConvertAll(tagKeys, PrometheusNames.Label);
            var type = instrument.GetType().GetGenericTypeDefinition();
            if (PrometheusNames.IsCounter(instrument))
            {
                return new CounterBinding(factory.CreateCounter(name, help, labels), cumulative: type == typeof(ObservableCounter<>), tagKeys);
            }

            if (PrometheusNames.IsHistogram(instrument))
            {
                var buckets = Buckets(instrument) ?? [.. MetricBuckets.Latency];
                return new HistogramBinding(factory.CreateHistogram(name, help, labels, new HistogramConfiguration { Buckets = buckets }), tagKeys);
            }

            return new GaugeBinding(factory.CreateGauge(name, help, labels), increment: type == typeof(UpDownCounter<>), tagKeys);
        }

        public abstract void Record(ReadOnlySpan<string> labelValues, double value);

        private static double[]? Buckets(Instrument instrument) => instrument switch
        {
            Histogram<double> { Advice.HistogramBucketBoundaries: { } bounds } => [.. bounds],
            Histogram<long> { Advice.HistogramBucketBoundaries: { } bounds } => [.. bounds.Select(bound => (double)bound)],
            Histogram<int> { Advice.HistogramBucketBoundaries: { } bounds } => [.. bounds.Select(bound => (double)bound)],
            _ => null,
        };
    }

    /// <summary>
    /// A binding whose labelled series are remembered by the identity of their label values. The agent passes the same
    /// string instances for a series on every request (its label values are constants or capped, canonical strings),
    /// so a measurement finds its series with a few reference comparisons instead of prometheus-net's look-up, which
    /// hashes every value's characters (about a fifth of a microsecond a measurement, a dozen measurements a request).
    /// </summary>
    /// <remarks>
    /// Direct-mapped by the values' identity hashes: a slot keeps the first series that lands in it, and any other series
    /// (a collision, or values equal in text but not the same instances) takes prometheus-net's look-up, which finds the
    /// same series: the cache changes only the cost, never which series is counted, and allocates at most once per slot.
    /// Slots are immutable entries set once, so concurrent measurements need no lock.
    /// </remarks>
    private abstract class CachedBinding<TChild>(string[] tagKeys) : Binding(tagKeys)
        where TChild : class
    {
        private const int Slots = 64;
        private readonly Entry?[] _slots = new Entry?[Slots];

        protected TChild Child(ReadOnlySpan<string> labelValues)
        {
            var hash = 0;
            foreach (var value in labelValues)
            {
                hash = (hash * 31) + RuntimeHelpers.GetHashCode(value);
            }

            ref var slot = ref _slots[hash & (Slots - 1)];
            var entry = Volatile.Read(ref slot);
            if (entry is not null && entry.Matches(labelValues))
            {
                return entry.Child;
            }

            var child = Lookup(labelValues);
            if (entry is null)
            {
                Interlocked.CompareExchange(ref slot, new Entry(labelValues.ToArray(), child), null);
            }

            return child;
        }

        /// <summary>prometheus-net's own look-up (creates the series at its first measurement).</summary>
        protected abstract TChild Lookup(ReadOnlySpan<string> labelValues);

        private sealed class Entry(string[] values, TChild child)
        {
            public TChild Child { get; } = child;

            public bool Matches(ReadOnlySpan<string> labelValues)
            {
                if (labelValues.Length != values.Length)
                {
                    return false;
                }

                for (var i = 0; i < values.Length; i++)
                {
                    if (!ReferenceEquals(values[i], labelValues[i]))
                    {
                        return false;
                    }
                }

                return true;
            }
        }
    }

    private sealed class CounterBinding(Counter counter, bool cumulative, string[] tagKeys) : CachedBinding<ICounter>(tagKeys)
    {
        public override void Record(ReadOnlySpan<string> labelValues, double value)
        {
            ICounter child = labelValues.IsEmpty ? counter : Child(labelValues);
            if (cumulative)
            {
                child.IncTo(value);
            }
            else
            {
                child.Inc(value);
            }
        }

        protected override ICounter Lookup(ReadOnlySpan<string> labelValues) => counter.WithLabels(labelValues);
    }

    private sealed class GaugeBinding(Gauge gauge, bool increment, string[] tagKeys) : CachedBinding<IGauge>(tagKeys)
    {
        public override void Record(ReadOnlySpan<string> labelValues, double value)
        {
            IGauge child = labelValues.IsEmpty ? gauge : Child(labelValues);
            if (increment)
            {
                child.Inc(value);
            }
            else
            {
                child.Set(value);
            }
        }

        protected override IGauge Lookup(ReadOnlySpan<string> labelValues) => gauge.WithLabels(labelValues);
    }

    private sealed class HistogramBinding(Histogram histogram, string[] tagKeys) : CachedBinding<IHistogram>(tagKeys)
    {
        public override void Record(ReadOnlySpan<string> labelValues, double value)
        {
            IHistogram child = labelValues.IsEmpty ? histogram : Child(labelValues);
            child.Observe(value);
        }

        protected override IHistogram Lookup(ReadOnlySpan<string> labelValues) => histogram.WithLabels(labelValues);
    }
}
