using MeterAgent.Ledger.Usage;
using static MeterAgent.Ledger.Tests.Sqlite.UsageRecords;

namespace MeterAgent.Ledger.Tests.Sqlite;

public sealed class SqliteUsageStoreTests
{
    [Fact]
    public void The_full_sample_sets_every_field_so_round_trips_cover_every_column()
    {
        var full = Full(T0);
        var defaults = new UsageRecord { Id = "", AccountId = "", KeyId = "", Surface = "", StartedAt = default };
        foreach (var property in Properties)
        {
            Assert.False(Equals(property.GetValue(defaults), property.GetValue(full)), $"{property.Name} is left at its default");
        }
    }

    [Fact]
    public async Task Open_then_close_round_trips_every_field()
    {
        using var dir = new TempFolder();
        await using var store = TestStore.Open(dir.DbPath);
        var record = Full(T0);

        // The open is stored as Open whatever the record says; the final state arrives with the close.
        await store.Usage.OpenAsync(record);
        var opened = await store.Usage.GetAsync(record.Id);
        Assert.NotNull(opened);
        Assert.Equal(UsageStatus.Open, opened.Status);
        Assert.Equal(record.AccountId, opened.AccountId);
        Assert.Equal(record.StartedAt, opened.StartedAt);

        await store.Usage.CloseAsync(record);
        AssertSame(record, await store.Usage.GetAsync(record.Id));
    }

    [Fact]
    public async Task A_record_with_every_optional_field_empty_round_trips()
    {
        using var dir = new TempFolder();
        await using var store = TestStore.Open(dir.DbPath);
        var record = Minimal(model: null);
        record.Status = UsageStatus.Rejected;

        await store.Usage.CloseAsync(record);

        AssertSame(record, await store.Usage.GetAsync(record.Id));
    }

    [Fact]
    public async Task Timestamps_keep_the_instant_to_the_microsecond_whatever_the_offset()
    {
        using var dir = new TempFolder();
        await using var store = TestStore.Open(dir.DbPath);
        var started = new DateTimeOffset(2025, 6, 1, 14, 0, 0, TimeSpan.FromHours(2)).AddTicks(1_234_567);
        var record = Minimal(startedAt: started);

        await store.Usage.OpenAsync(record);
        var stored = await store.Usage.GetAsync(record.Id);

        Assert.Equal(started.UtcTicks - 7, stored!.StartedAt.UtcTicks);
        Assert.Equal(TimeSpan.Zero, stored.StartedAt.Offset);
    }

    [Fact]
    public async Task Columns_hold_snake_case_status_names_and_unix_microseconds()
    {
        using var dir = new TempFolder();
        await using var store = TestStore.Open(dir.DbPath);
        var record = Full(T0, UsageStatus.ClientAborted);

        await store.Usage.CloseAsync(record);

        using var connection = store.Database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT status, started_at, stream FROM usage_records WHERE id = @id;";
        command.Parameters.AddWithValue("@id", record.Id);
        using var reader = command.ExecuteReader();
        Assert.True(reader.Read());
        Assert.Equal("client_aborted", reader.GetString(0));
        Assert.Equal(T0.ToUnixTimeMilliseconds() * 1000, reader.GetInt64(1));
        Assert.Equal(1, reader.GetInt64(2));
    }

    [Theory]
    [InlineData(UsageStatus.Completed)]
    [InlineData(UsageStatus.ClientAborted)]
    [InlineData(UsageStatus.UpstreamFailed)]
    [InlineData(UsageStatus.UpstreamError)]
    [InlineData(UsageStatus.Rejected)]
    [InlineData(UsageStatus.Interrupted)]
    public async Task Every_final_status_round_trips(UsageStatus status)
    {
        using var dir = new TempFolder();
        await using var store = TestStore.Open(dir.DbPath);
        var record = Full(T0, status);

        await store.Usage.OpenAsync(record);
        await store.Usage.CloseAsync(record);

        Assert.Equal(status, (await store.Usage.GetAsync(record.Id))!.Status);
    }

    [Fact]
    public async Task Close_without_open_inserts_and_a_late_repeated_open_does_not_reopen()
    {
        using var dir = new TempFolder();
        await using var store = TestStore.Open(dir.DbPath);
        var record = Full(T0, UsageStatus.Completed);

        await store.Usage.CloseAsync(record);
        await store.Usage.OpenAsync(record);

        AssertSame(record, await store.Usage.GetAsync(record.Id));
    }

    [Fact]
    public async Task Get_of_an_unknown_id_is_null()
    {
        using var dir = new TempFolder();
        await using var store = TestStore.Open(dir.DbPath);

        Assert.Null(await store.Usage.GetAsync(NewId(T0)));
    }

    [Fact]
    public async Task Writes_after_dispose_are_refused()
    {
        using var dir = new TempFolder();
        var store = TestStore.Open(dir.DbPath);
        await store.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await store.Usage.OpenAsync(Minimal()));
    }

    [Fact]
    public async Task A_bad_record_fails_alone_and_the_writes_queued_with_it_commit()
    {
        using var dir = new TempFolder();
        await using var store = TestStore.Open(dir.DbPath);
        var good = Enumerable.Range(0, 50).Select(i => Minimal(startedAt: T0.AddMilliseconds(i))).ToList();
        var bad = Minimal(startedAt: T0.AddSeconds(1));
        bad.Quality = null!;

        // Queued together without awaiting in between, so they are likely to share a transaction.
        var writes = good.Take(25).Select(r => store.Usage.OpenAsync(r).AsTask())
            .Append(store.Usage.OpenAsync(bad).AsTask())
            .Concat(good.Skip(25).Select(r => store.Usage.OpenAsync(r).AsTask()))
            .ToList();

        await Assert.ThrowsAnyAsync<Exception>(() => writes[25]);
        await Task.WhenAll(writes.Where((_, i) => i != 25));
        foreach (var record in good)
        {
            Assert.NotNull(await store.Usage.GetAsync(record.Id));
        }

        Assert.Null(await store.Usage.GetAsync(bad.Id));
    }
}
