using MeterAgent.Ledger.Sqlite;
using MeterAgent.Ledger.Usage;

namespace MeterAgent.Ledger.Tests.Sqlite;

/// <summary>
/// <see cref="SqliteUsageStore.QueryAsync"/> chooses a plan by counting each indexed filter up to
/// <see cref="SqliteUsageStore.SelectiveRows"/> + 1: the rarest filter drives the query, or, when every filter matches
/// more, the rows are walked newest first. Whatever it chooses, the page must be exactly the plain query's: the same
/// filters written straightforwardly in SQL, newest first by id. Random records, filters on both sides of the threshold,
/// and pages followed through <see cref="UsageQuery.Before"/>.
/// </summary>
public sealed class UsageStoreQueryPlanTests(UsageStoreQueryPlanTests.SeededStore seeded) : IClassFixture<UsageStoreQueryPlanTests.SeededStore>
{
    private const int Records = 6000;
    private static readonly DateTimeOffset Day0 = new(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);

    // Skewed so that some values match far more than the threshold and some far fewer.
    private static readonly (string Value, int Weight)[] AccountWeights = [("acct_big", 70), ("acct_mid", 25), ("acct_small", 5)];
    private static readonly (string? Value, int Weight)[] ModelWeights = [("m-common", 60), ("m-mid", 30), ("m-rare", 1), (null, 9)];
    private static readonly (UsageStatus Value, int Weight)[] StatusWeights =
        [(UsageStatus.Completed, 80), (UsageStatus.ClientAborted, 14), (UsageStatus.UpstreamError, 4), (UsageStatus.Rejected, 2)];

    /// <summary>One store of random records for every case (seeding it is most of the time).</summary>
    public sealed class SeededStore : IAsyncLifetime
    {
        private readonly TempFolder _dir = new();

        internal TestStore Store { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            Store = TestStore.Open(_dir.DbPath);
            var random = new Random(2001);
            var records = new List<UsageRecord>(Records);
            for (var i = 0; i < Records; i++)
            {
                var model = Pick(random, ModelWeights);
                var started = Day0.AddTicks(random.NextInt64(TimeSpan.TicksPerDay * 10) / 10 * 10);
                records.Add(new UsageRecord
                {
                    // As the proxy's: UUIDv7 from the id's own clock reading, close to the start but not in its exact order.
                    Id = Guid.CreateVersion7(started.AddMilliseconds(random.Next(-5000, 5000))).ToString("N"),
                    AccountId = Pick(random, AccountWeights),
                    KeyId = "key",
                    Surface = "openai.chat_completions",
                    RequestedModel = model,
                    ServedModel = model is null || random.Next(3) == 0 ? null : model + "-served",
                    StartedAt = started,
                    EndedAt = started.AddSeconds(1),
                    Status = Pick(random, StatusWeights),
                    ReferenceInputTokens = random.Next(1000),
                    ReferenceOutputTokens = random.Next(1000),
                });
            }

            // Closed concurrently in chunks (the writer groups them), in random order against their ids.
            foreach (var chunk in records.Chunk(250))
            {
                await Task.WhenAll(chunk.Select(r => Store.Usage.CloseAsync(r).AsTask()));
            }

            // Two thirds folded into the rollups and the id ranges, the rest past the watermark, as a running agent has
            // them: a time filter's id bound comes from both.
            var folded = 0L;
            while (folded < Records * 2 / 3)
            {
                folded += await Store.Writer.SubmitAsync(new RollupFoldWrite(500), CancellationToken.None);
            }
        }

        public async Task DisposeAsync()
        {
            await Store.DisposeAsync();
            _dir.Dispose();
        }
    }

    private TestStore Store => seeded.Store;

    private static T Pick<T>(Random random, (T Value, int Weight)[] weights)
    {
        var roll = random.Next(weights.Sum(w => w.Weight));
        foreach (var (value, weight) in weights)
        {
            if ((roll -= weight) < 0)
            {
                return value;
            }
        }

        throw new InvalidOperationException("unreachable");
    }

    public static TheoryData<string?, string?, string?, int?, int?> Filters()
    {
        var data = new TheoryData<string?, string?, string?, int?, int?>();
        string?[] accounts = [null, "acct_big", "acct_mid", "acct_small"];
        string?[] models = [null, "m-common", "m-mid", "m-rare", "m-common-served"];
        string?[] statuses = [null, "completed", "client_aborted", "rejected"];
        (int?, int?)[] times = [(null, null), (2, null), (null, 7), (1, 9), (null, 1)];
        var i = 0;
        foreach (var account in accounts)
        {
            foreach (var model in models)
            {
                foreach (var status in statuses)
                {
                    // Every account, model and status combination, each with one time window in turn.
                    var (from, to) = times[i++ % times.Length];
                    data.Add(account, model, status, from, to);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Filters))]
    public async Task A_page_is_exactly_the_plain_querys_whatever_plan_the_counts_choose(string? account, string? model, string? status, int? fromDay, int? toDay)
    {
        var query = new UsageQuery(
            // Mid-day bounds, so a bound's own day holds records on both sides of it.
            account, model, fromDay is { } f ? Day0.AddDays(f).AddHours(7.5) : null, toDay is { } t ? Day0.AddDays(t).AddHours(7.5) : null, Limit: 50,
            Status: status is null ? null : Enum.GetValues<UsageStatus>().Single(s => UsageStatusNames.ToName(s) == status));
        var all = Plain(query with { Limit = Records + 1 });

        // The first pages, then pages from deep in the list (where the counts, taken below Before, can change the plan).
        var starts = new List<string?> { null };
        starts.AddRange(new[] { all.Count / 3, all.Count / 2, all.Count - 30 }.Where(n => n > 0 && n < all.Count).Select(n => all[n]));
        foreach (var start in starts)
        {
            var before = start;
            for (var page = 0; page < 3; page++)
            {
                var paged = query with { Before = before };
                var expected = Plain(paged);
                var actual = (await Store.Usage.QueryAsync(paged)).Select(r => r.Id).ToList();
                Assert.Equal(expected, actual);
                if (actual.Count < paged.Limit)
                {
                    break;
                }

                before = actual[^1];
            }
        }

        // One page of the largest size too.
        var large = query with { Limit = SqliteUsageStore.MaxQueryLimit };
        Assert.Equal(Plain(large), (await Store.Usage.QueryAsync(large)).Select(r => r.Id).ToList());
    }

    [Fact]
    public void The_filters_fall_on_both_sides_of_the_plan_threshold()
    {
        // Otherwise the theory above would test one plan only.
        long Count(string where, string? value)
        {
            using var connection = Store.Database.OpenConnection();
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT COUNT(*) FROM usage_records WHERE {where};";
            command.Parameters.AddWithValue("@v", (object?)value ?? DBNull.Value);
            return (long)command.ExecuteScalar()!;
        }

        Assert.True(Count("account_id = @v", "acct_big") > SqliteUsageStore.SelectiveRows);
        Assert.True(Count("account_id = @v", "acct_mid") <= SqliteUsageStore.SelectiveRows);
        Assert.True(Count("requested_model = @v OR served_model = @v", "m-common") > SqliteUsageStore.SelectiveRows);
        Assert.True(Count("requested_model = @v OR served_model = @v", "m-mid") <= SqliteUsageStore.SelectiveRows);
        Assert.True(Count("status = @v", "client_aborted") <= SqliteUsageStore.SelectiveRows);
        Assert.True(Count("status = @v", "completed") > SqliteUsageStore.SelectiveRows);
    }

    /// <summary>The same filters as plain SQL over the whole table: the answer <see cref="SqliteUsageStore.QueryAsync"/> must give.</summary>
    private List<string> Plain(UsageQuery query)
    {
        using var connection = Store.Database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT id FROM usage_records
            WHERE (@account IS NULL OR account_id = @account)
              AND (@model IS NULL OR requested_model = @model OR served_model = @model)
              AND (@from IS NULL OR started_at >= @from)
              AND (@to IS NULL OR started_at < @to)
              AND (@status IS NULL OR status = @status)
              AND (@before IS NULL OR id < @before)
            ORDER BY id DESC
            LIMIT @limit;
            """;
        command.Parameters.AddWithValue("@account", (object?)query.AccountId ?? DBNull.Value);
        command.Parameters.AddWithValue("@model", (object?)query.Model ?? DBNull.Value);
        command.Parameters.AddWithValue("@from", query.From is { } from ? (from - DateTimeOffset.UnixEpoch).Ticks / 10 : DBNull.Value);
        command.Parameters.AddWithValue("@to", query.To is { } to ? (to - DateTimeOffset.UnixEpoch).Ticks / 10 : DBNull.Value);
        command.Parameters.AddWithValue("@status", query.Status is { } status ? UsageStatusNames.ToName(status) : DBNull.Value);
        command.Parameters.AddWithValue("@before", (object?)query.Before ?? DBNull.Value);
        command.Parameters.AddWithValue("@limit", query.Limit);
        using var reader = command.ExecuteReader();
        var ids = new List<string>();
        while (reader.Read())
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
    }
}
