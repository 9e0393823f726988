namespace MeterAgent.Tests.Observability;

/// <summary>The kit's PromQL reading, which the dashboard, rule and real-Prometheus tests rely on.</summary>
public sealed class PromQlTests
{
    [Fact]
    public void Selectors_are_the_metrics_read_with_their_matcher_labels_not_functions_keywords_or_grouping_labels()
    {
        var selectors = PromQl.Selectors(
            """histogram_quantile(0.99, sum by (le, surface) (rate(meteragent_proxy_overhead_seconds_bucket{instance=~"$instance", surface!="a,b{c}"}[$__rate_interval]))) > 0.025 and on (surface) sum without (model) (up offset 5m)""");

        Assert.Equal(["meteragent_proxy_overhead_seconds_bucket", "up"], selectors.Select(s => s.Metric));
        Assert.Equal(["instance", "surface"], selectors[0].Labels);
        Assert.Empty(selectors[1].Labels);
    }

    [Fact]
    public void Recorded_series_names_with_colons_are_selectors()
    {
        Assert.Equal(
            ["model:meteragent_output_tokens_native_per_reference:ratio_rate1h", "model:meteragent_output_tokens_reference:rate1h"],
            PromQl.MetricNames("model:meteragent_output_tokens_native_per_reference:ratio_rate1h > 2 and model:meteragent_output_tokens_reference:rate1h > 1").Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Operands_split_at_set_operators_and_comparisons_and_drop_thresholds()
    {
        Assert.Equal(
            ["sum by (surface) (rate(x_total{status_class=\"5xx\"}[5m]))\n  / sum by (surface) (rate(x_total[5m]))", "sum by (surface) (rate(x_total[5m]))"],
            PromQl.Operands("sum by (surface) (rate(x_total{status_class=\"5xx\"}[5m]))\n  / sum by (surface) (rate(x_total[5m]))\n  > 0.05\nand\nsum by (surface) (rate(x_total[5m])) > 0.1"));
        Assert.Equal(["up{job=\"meteragent\"}"], PromQl.Operands("up{job=\"meteragent\"} == 0"));
        Assert.Equal(["a{l!=\"x\"}"], PromQl.Operands("a{l!=\"x\"} >= bool 4 * 3600"));
    }

    [Fact]
    public void Operands_unwrap_parentheses_and_drop_vector_matching_modifiers()
    {
        Assert.Equal(["ratio", "ratio", "floor_rate"], PromQl.Operands("(\n  ratio > 2\n  or\n  ratio < 0.5\n)\nand on (model) group_left floor_rate > 1"));
        Assert.Equal(
            ["sum by (instance) (open)", "2 * sum by (instance) (rate(d_sum[15m])) + 10"],
            PromQl.Operands("sum by (instance) (open) > on (instance) (2 * sum by (instance) (rate(d_sum[15m])) + 10)"));
        Assert.Equal(["abs(a / b - 1)", "c"], PromQl.Operands("abs(a / b - 1) > 0.2 unless c < 1"));
    }

    [Fact]
    public void An_expression_without_a_top_level_operator_is_its_own_operand()
    {
        Assert.Equal(["max by (contract) (available) / (sum by (contract) (rate(redeemed[1h])) > 0)"],
            PromQl.Operands("max by (contract) (available) / (sum by (contract) (rate(redeemed[1h])) > 0)"));
    }

    [Fact]
    public void Grafana_variables_become_what_prometheus_takes()
    {
        Assert.Equal(
            """sum(increase(x{a=~".*", b=~".*"}[5m])) / rate(y[1m]) + rate(z[1m])""",
            PromQl.SubstituteGrafanaVariables("""sum(increase(x{a=~"$a", b=~"${b}"}[$__range])) / rate(y[$__rate_interval]) + rate(z[$__interval])"""));
        Assert.Equal(["a", "b"], PromQl.VariableReferences("""x{a=~"$a", b=~"${b:regex}"}[$__rate_interval]""").Order(StringComparer.Ordinal));
    }
}
