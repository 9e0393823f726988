using System.Text.Json;
using System.Text.Json.Serialization;
using MeterAgent.Contracts.Units;
using MeterAgent.Credits;
using MeterAgent.Ledger.Usage;

namespace MeterAgent.WebConsole;

/// <summary>One chart's data, as a page's JSON data island holds it for charts.js: x in Unix seconds, a line per series.</summary>
public sealed record ChartData(string Title, string YLabel, IReadOnlyList<long> X, IReadOnlyList<ChartSeries> Series);

/// <summary>One line; a null value is a gap (a day still to come).</summary>
public sealed record ChartSeries(string Label, IReadOnlyList<decimal?> Values);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(ChartData))]
internal sealed partial class ConsoleJsonContext : JsonSerializerContext;

/// <summary>The consoles' charts, computed on the server from the same figures the tables show.</summary>
internal static class ConsoleCharts
{
    /// <summary>The most days a chart spans, however long a delivery window is.</summary>
    public const int MaxDays = 400;

    /// <summary>
    /// The island's text: JSON whose every <c>&lt;</c>, <c>&gt;</c> and <c>&amp;</c> is escaped (the default encoder), so no
    /// string in it (a model name, a contract id) can close the script element it sits in.
    /// </summary>
    public static string Json(ChartData chart) => JsonSerializer.Serialize(chart, ConsoleJsonContext.Default.ChartData);

    /// <summary>
    /// The lots' credit remaining (delivered less redeemed) day by day against an even burn from the earliest window
    /// start to the latest window end. Past days are rebuilt from today's figures and the daily redeemed units
    /// (<paramref name="daily"/>): a lot counts from the day it was delivered. Null when there are no lots.
    /// </summary>
    public static ChartData? BurnDown(IReadOnlyList<LotView> lots, IReadOnlyList<DailyUsage> daily, DateTimeOffset now)
    {
        if (lots.Count == 0)
        {
            return null;
        }

        var start = DateOnly.FromDateTime(lots.Min(lot => lot.WindowStart < lot.DeliveredAt ? lot.WindowStart : lot.DeliveredAt).UtcDateTime);
        var end = DateOnly.FromDateTime(lots.Max(lot => lot.WindowEnd).UtcDateTime);
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        if (end.DayNumber - start.DayNumber > MaxDays)
        {
            start = end.AddDays(-MaxDays);
        }

        var redeemedPerDay = daily.GroupBy(row => row.Day).ToDictionary(g => g.Key, g => g.Sum(row => row.Totals.RedeemedMicro));
        var delivered = lots.Sum(lot => lot.Delivered);
        var redeemedNow = lots.Sum(lot => lot.Redeemed);
        var x = new List<long>();
        var remaining = new List<decimal?>();
        var even = new List<decimal?>();
        var span = Math.Max(1, end.DayNumber - start.DayNumber);
        for (var day = start; day <= end; day = day.AddDays(1))
        {
            x.Add(new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero).ToUnixTimeSeconds());
            even.Add(decimal.Round(delivered * (end.DayNumber - day.DayNumber) / span, 6));
            if (day > today)
            {
                remaining.Add(null);
                continue;
            }

            // Redeemed up to the end of this day: today's total less what later days redeemed.
            long laterMicro = 0;
            foreach (var (d, micro) in redeemedPerDay)
            {
                if (d > day)
                {
                    laterMicro += micro;
                }
            }

            var deliveredBy = lots.Where(lot => DateOnly.FromDateTime(lot.DeliveredAt.UtcDateTime) <= day).Sum(lot => lot.Delivered);
            remaining.Add(Math.Max(0, deliveredBy - (redeemedNow - ContractUnits.FromMicro(laterMicro))));
        }

        return new ChartData("Credit remaining against the delivery windows", "contract units", x,
            [new ChartSeries("Remaining", remaining), new ChartSeries("Even burn to the window end", even)]);
    }

    /// <summary>Reference tokens (input and output) per day, a line per model. Null when there was no usage.</summary>
    public static ChartData? DailyTokens(IReadOnlyList<DailyUsage> daily, DateOnly from, DateOnly to)
    {
        if (daily.Count == 0)
        {
            return null;
        }

        var models = daily.Select(row => row.Model).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var byDay = daily.ToDictionary(row => (row.Day, row.Model), row => row.Totals.ReferenceInputTokens + row.Totals.ReferenceOutputTokens);
        var x = new List<long>();
        var series = models.Select(_ => new List<decimal?>()).ToList();
        for (var day = from; day <= to; day = day.AddDays(1))
        {
            x.Add(new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero).ToUnixTimeSeconds());
            for (var i = 0; i < models.Count; i++)
            {
                series[i].Add(byDay.TryGetValue((day, models[i]), out var tokens) ? tokens : 0);
            }
        }

        return new ChartData("Reference tokens per day", "tokens", x, [.. models.Select((model, i) => new ChartSeries(model, series[i]))]);
    }
}
