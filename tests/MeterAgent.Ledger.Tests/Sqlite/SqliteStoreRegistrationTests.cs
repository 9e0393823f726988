using MeterAgent.Ledger.Accounts;
using MeterAgent.Ledger.Credits;
using MeterAgent.Ledger.Hosting;
using MeterAgent.Ledger.Sqlite;
using MeterAgent.Ledger.Tests.Credits;
using MeterAgent.Ledger.Usage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace MeterAgent.Ledger.Tests.Sqlite;

public sealed class SqliteStoreRegistrationTests
{
    private static IHost BuildHost(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddSqliteStore();
        return builder.Build();
    }

    [Fact]
    public async Task Binds_the_store_section_and_serves_both_interfaces_from_one_store()
    {
        using var dir = new TempFolder();
        var path = Path.Combine(dir.Path, "data", "meteragent.db");
        using var host = BuildHost(new()
        {
            ["Store:Path"] = path,
            ["Store:Synchronous"] = "Full",
            ["Store:MaxBatchSize"] = "64",
            ["Store:KeyCacheTtl"] = "00:00:30",
            ["Store:ReservationSweepInterval"] = "00:00:02",
            ["Store:CloseGatherTime"] = "00:00:00.020",
        });

        await host.StartAsync();
        var options = host.Services.GetRequiredService<IOptions<SqliteStoreOptions>>().Value;
        Assert.Equal(path, options.Path);
        Assert.Equal(SqliteSynchronousMode.Full, options.Synchronous);
        Assert.Equal(64, options.MaxBatchSize);
        Assert.Equal(TimeSpan.FromSeconds(30), options.KeyCacheTtl);
        Assert.Equal(TimeSpan.FromMilliseconds(20), options.CloseGatherTime);
        Assert.Equal(TimeSpan.FromSeconds(2), host.Services.GetRequiredService<IOptions<StoreOptions>>().Value.ReservationSweepInterval);

        Assert.IsType<SqliteAccountStore>(host.Services.GetRequiredService<IAccountStore>());
        Assert.Same(host.Services.GetRequiredService<SqliteUsageStore>(), host.Services.GetRequiredService<IUsageStore>());
        Assert.Same(host.Services.GetRequiredService<SqliteCreditLedger>(), host.Services.GetRequiredService<ICreditLedger>());
        Assert.True(File.Exists(path));
        await host.StopAsync();
    }

    [Fact]
    public async Task Start_up_recovers_records_a_previous_run_left_open()
    {
        using var dir = new TempFolder();
        var crashed = TestStore.Open(dir.DbPath);
        var record = UsageRecords.Minimal();
        await crashed.Usage.OpenAsync(record);

        using var host = BuildHost(new() { ["Store:Path"] = dir.DbPath });
        await host.StartAsync();

        var stored = await host.Services.GetRequiredService<IUsageStore>().GetAsync(record.Id);
        Assert.Equal(UsageStatus.Interrupted, stored!.Status);
        await host.StopAsync();
    }

    [Fact]
    public async Task Start_up_releases_reservations_a_previous_version_left_pending_past_their_deadline()
    {
        // A version before the reservation book wrote each reservation at its reserve: a file it left can hold pending
        // ones whose requests never settled. The sweep at start-up releases those past their deadline.
        using var dir = new TempFolder();
        string accountId, lotId;
        const string ReservationId = "res_left_pending";
        await using (var previous = TestStore.Open(dir.DbPath))
        {
            accountId = (await previous.Accounts.CreateAccountAsync("Acme")).Id;
            lotId = (await previous.Credits.ApplyDeliveryAsync(Credit.Notice(accountId, 5 * Credit.Unit, windowEnd: DateTimeOffset.UtcNow.AddDays(1)), Credit.T0)).Lot!.LotId;
        }

        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={dir.DbPath};Pooling=False"))
        {
            connection.Open();
            using var leave = connection.CreateCommand();
            leave.CommandText = """
                UPDATE credit_lots SET available = available - 2000000, pending = pending + 2000000 WHERE lot_id = @lot;
                INSERT INTO reservations (reservation_id, account_id, contract_id, state, reserved, posted, overage, created_at, expires_at)
                VALUES (@id, @account, 'gpt4o-2026q1', 'pending', 2000000, 0, 0, @created, @due);
                INSERT INTO reservation_draws (reservation_id, seq, lot_id, reserved, posted) VALUES (@id, 0, @lot, 2000000, 0);
                """;
            leave.Parameters.AddWithValue("@lot", lotId);
            leave.Parameters.AddWithValue("@id", ReservationId);
            leave.Parameters.AddWithValue("@account", accountId);
            leave.Parameters.AddWithValue("@created", DateTimeOffset.UtcNow.AddHours(-1).ToUnixTimeMilliseconds() * 1000);
            leave.Parameters.AddWithValue("@due", DateTimeOffset.UtcNow.AddMinutes(-55).ToUnixTimeMilliseconds() * 1000);
            leave.ExecuteNonQuery();
        }

        using var host = BuildHost(new() { ["Store:Path"] = dir.DbPath });
        await host.StartAsync();

        var ledger = host.Services.GetRequiredService<ICreditLedger>();
        Assert.Equal(ReservationState.Expired, (await ledger.GetReservationAsync(ReservationId))!.State);
        Assert.Equal(5 * Credit.Unit, Assert.Single(await ledger.GetLotsAsync(accountId)).AvailableMicro);
        await host.StopAsync();
    }

    [Fact]
    public async Task A_reservation_held_when_the_store_stopped_is_gone_at_the_next_start_and_its_credits_are_whole()
    {
        using var dir = new TempFolder();
        string accountId, reservationId;
        await using (var stopped = TestStore.Open(dir.DbPath))
        {
            accountId = (await stopped.Accounts.CreateAccountAsync("Acme")).Id;
            await stopped.Credits.ApplyDeliveryAsync(Credit.Notice(accountId, 5 * Credit.Unit, windowEnd: DateTimeOffset.UtcNow.AddDays(1)), Credit.T0);
            var request = Credit.Request(accountId, new Dictionary<string, long> { ["gpt4o-2026q1"] = 2 * Credit.Unit }, now: DateTimeOffset.UtcNow.AddHours(-1));
            reservationId = (await stopped.Credits.ReserveAsync(request)).Reservation!.ReservationId;
        }

        using var host = BuildHost(new() { ["Store:Path"] = dir.DbPath });
        await host.StartAsync();

        var ledger = host.Services.GetRequiredService<ICreditLedger>();
        Assert.Null(await ledger.GetReservationAsync(reservationId));
        Assert.Equal(5 * Credit.Unit, Assert.Single(await ledger.GetLotsAsync(accountId)).AvailableMicro);
        await host.StopAsync();
    }

    [Fact]
    public async Task The_sweep_runs_again_every_interval()
    {
        using var dir = new TempFolder();
        using var host = BuildHost(new() { ["Store:Path"] = dir.DbPath, ["Store:ReservationSweepInterval"] = "00:00:00.100" });
        await host.StartAsync();
        var accountId = (await host.Services.GetRequiredService<IAccountStore>().CreateAccountAsync("Acme")).Id;
        var ledger = host.Services.GetRequiredService<ICreditLedger>();
        await ledger.ApplyDeliveryAsync(Credit.Notice(accountId, 5 * Credit.Unit, windowEnd: DateTimeOffset.UtcNow.AddDays(1)), Credit.T0);
        var now = DateTimeOffset.UtcNow;
        var request = new ReserveRequest("res_sweep", accountId, new Dictionary<string, long> { ["gpt4o-2026q1"] = Credit.Unit }, now, now.AddMilliseconds(200));
        Assert.True((await ledger.ReserveAsync(request)).Granted);

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((await ledger.GetReservationAsync("res_sweep"))!.State == ReservationState.Pending && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.Equal(ReservationState.Expired, (await ledger.GetReservationAsync("res_sweep"))!.State);
        await host.StopAsync();
    }

    [Fact]
    public async Task Disposing_the_container_commits_the_queued_writes_even_when_disposed_synchronously()
    {
        using var dir = new TempFolder();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Store:Path"] = dir.DbPath }).Build());
        services.AddLogging();
        services.AddSqliteStore();
        var records = Enumerable.Range(0, 100).Select(i => UsageRecords.Minimal(startedAt: UsageRecords.T0.AddMilliseconds(i))).ToList();
        Task[] writes;
        using (var provider = services.BuildServiceProvider())
        {
            var store = provider.GetRequiredService<IUsageStore>();
            writes = records.Select(r => store.OpenAsync(r).AsTask()).ToArray();
        }

        await Task.WhenAll(writes);
        await using var reopened = TestStore.Open(dir.DbPath);
        Assert.Equal(100, (await reopened.Usage.QueryAsync(new UsageQuery(Limit: 1000))).Count);
    }

    [Theory]
    [InlineData("Store:MaxBatchSize", "0")]
    [InlineData("Store:KeyCacheTtl", "-00:00:01")]
    [InlineData("Store:Path", " ")]
    [InlineData("Store:KeyCacheCapacity", "0")]
    [InlineData("Store:ReservationSweepInterval", "00:00:00")]
    [InlineData("Store:ReservationSweepInterval", "02:00:00")]
    [InlineData("Store:Kind", " ")]
    [InlineData("Store:WalLimitBytes", "1048576")]
    [InlineData("Store:CloseGatherTime", "-00:00:00.001")]
    [InlineData("Store:CloseGatherTime", "00:00:01")]
    public async Task A_bad_setting_fails_start_naming_the_key(string key, string value)
    {
        using var dir = new TempFolder();
        using var host = BuildHost(new() { ["Store:Path"] = dir.DbPath, [key] = value });

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains(key, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Defaults_match_the_documented_ones()
    {
        var options = new SqliteStoreOptions();

        Assert.Equal("data/meteragent.db", options.Path);
        Assert.Equal(SqliteSynchronousMode.Normal, options.Synchronous);
        Assert.Equal(256, options.MaxBatchSize);
        Assert.Equal(TimeSpan.FromSeconds(5), options.KeyCacheTtl);
        Assert.Equal(64L * 1024 * 1024, options.WalLimitBytes);
        Assert.Equal(TimeSpan.FromMilliseconds(6), options.CloseGatherTime);
        Assert.True(new SqliteStoreOptionsValidator().Validate(null, options).Succeeded);

        var shared = new StoreOptions();
        Assert.Equal("sqlite", shared.Kind);
        Assert.Equal(TimeSpan.FromSeconds(5), shared.ReservationSweepInterval);
        Assert.True(new StoreOptionsValidator().Validate(null, shared).Succeeded);
    }
}
