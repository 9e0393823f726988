using MeterAgent.Ledger.Usage;
using static MeterAgent.Ledger.Tests.Sqlite.UsageRecords;

namespace MeterAgent.Ledger.Tests.Sqlite;

public sealed class UsageQueryTests : IAsyncLifetime
{
    private const string AccountA = "acct_000000000000000a";
    private const string AccountB = "acct_000000000000000b";

    private readonly TempFolder _dir = new();
    private readonly List<UsageRecord> _records = [];
    private TestStore _store = null!;

    public async Task InitializeAsync()
    {
        _store = TestStore.Open(_dir.DbPath);

        // 30 records a minute apart; accounts alternate; every third asks for gpt-4o but is served a dated snapshot.
        for (var i = 0; i < 30; i++)
        {
            var record = Minimal(i % 2 == 0 ? AccountA : AccountB, T0.AddMinutes(i), i % 3 == 0 ? "gpt-4o" : "gpt-4o-mini");
            record.ServedModel = i % 3 == 0 ? "gpt-4o-2024-08-06" : record.RequestedModel;
            record.Status = UsageStatus.Completed;
            record.ReferenceInputTokens = i;
            _records.Add(record);
        }

        // Shuffled, so order in the result comes from the ids, not from insertion.
        foreach (var record in _records.OrderBy(_ => Random.Shared.Next()))
        {
            await _store.Usage.CloseAsync(record);
        }
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        _dir.Dispose();
    }

    private IEnumerable<UsageRecord> NewestFirst(Func<UsageRecord, bool> filter) =>
        _records.Where(filter).OrderByDescending(r => r.StartedAt);

    [Fact]
    public async Task Without_filters_returns_newest_first()
    {
        var page = await _store.Usage.QueryAsync(new UsageQuery());

        Assert.Equal(NewestFirst(_ => true).Select(r => r.Id), page.Select(r => r.Id));
    }

    [Fact]
    public async Task Filters_by_account()
    {
        var page = await _store.Usage.QueryAsync(new UsageQuery(AccountId: AccountB));

        Assert.Equal(NewestFirst(r => r.AccountId == AccountB).Select(r => r.Id), page.Select(r => r.Id));
    }

    [Fact]
    public async Task Model_matches_the_requested_or_the_served_model()
    {
        var byRequested = await _store.Usage.QueryAsync(new UsageQuery(Model: "gpt-4o"));
        var byServed = await _store.Usage.QueryAsync(new UsageQuery(Model: "gpt-4o-2024-08-06"));
        var mini = await _store.Usage.QueryAsync(new UsageQuery(Model: "gpt-4o-mini"));

        var expected = NewestFirst(r => r.RequestedModel == "gpt-4o").Select(r => r.Id).ToList();
        Assert.Equal(10, expected.Count);
        Assert.Equal(expected, byRequested.Select(r => r.Id));
        Assert.Equal(expected, byServed.Select(r => r.Id));
        Assert.Equal(NewestFirst(r => r.RequestedModel == "gpt-4o-mini").Select(r => r.Id), mini.Select(r => r.Id));
    }

    [Fact]
    public async Task Time_range_includes_from_and_excludes_to()
    {
        var from = T0.AddMinutes(10);
        var to = T0.AddMinutes(20);

        var page = await _store.Usage.QueryAsync(new UsageQuery(From: from, To: to));

        Assert.Equal(NewestFirst(r => r.StartedAt >= from && r.StartedAt < to).Select(r => r.Id), page.Select(r => r.Id));
        Assert.Equal(10, page.Count);
    }

    [Fact]
    public async Task Filters_combine()
    {
        var page = await _store.Usage.QueryAsync(new UsageQuery(AccountId: AccountA, Model: "gpt-4o", From: T0.AddMinutes(6)));

        var expected = NewestFirst(r => r.AccountId == AccountA && r.RequestedModel == "gpt-4o" && r.StartedAt >= T0.AddMinutes(6));
        Assert.Equal(expected.Select(r => r.Id), page.Select(r => r.Id));
        Assert.NotEmpty(page);
    }

    [Fact]
    public async Task Keyset_paging_visits_every_record_once_in_order()
    {
        var seen = new List<string>();
        string? before = null;
        var pages = 0;
        while (true)
        {
            var page = await _store.Usage.QueryAsync(new UsageQuery(AccountId: AccountA, Before: before, Limit: 4));
            if (page.Count == 0)
            {
                break;
            }

            Assert.InRange(page.Count, 1, 4);
            seen.AddRange(page.Select(r => r.Id));
            before = page[^1].Id;
            pages++;
        }

        Assert.Equal(NewestFirst(r => r.AccountId == AccountA).Select(r => r.Id), seen);
        Assert.Equal(4, pages);
    }

    [Fact]
    public async Task A_limit_below_one_is_refused()
    {
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _store.Usage.QueryAsync(new UsageQuery(Limit: 0)));
    }
}
