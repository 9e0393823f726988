using MeterAgent.Ledger.Accounts;
using MeterAgent.Ledger.Credits;
using MeterAgent.Ledger.Redis;
using MeterAgent.Ledger.Sqlite;
using MeterAgent.Ledger.Usage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace MeterAgent.Ledger.Tests.Redis;

[Collection(RedisServerCollection.Name)]
public sealed class RedisStoreRegistrationTests(RedisServerFixture redis)
{
    private static IHost BuildHost(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddRedisStore();
        return builder.Build();
    }

    [Fact]
    public async Task Accounts_and_credits_come_from_redis_and_usage_records_from_the_local_store()
    {
        using var dir = new TempFolder();
        using var host = BuildHost(new()
        {
            ["Store:Path"] = dir.DbPath,
            ["Redis:ConnectionString"] = redis.Server.ConnectionString,
            ["Redis:KeyPrefix"] = "reg-" + Guid.NewGuid().ToString("N")[..8] + ":",
            ["Redis:KeyCacheTtl"] = "00:00:02",
        });

        await host.StartAsync();
        Assert.Equal(TimeSpan.FromSeconds(2), host.Services.GetRequiredService<IOptions<RedisStoreOptions>>().Value.KeyCacheTtl);
        Assert.IsType<RedisAccountStore>(host.Services.GetRequiredService<IAccountStore>());
        Assert.Same(host.Services.GetRequiredService<RedisCreditLedger>(), host.Services.GetRequiredService<ICreditLedger>());
        Assert.Same(host.Services.GetRequiredService<SqliteUsageStore>(), host.Services.GetRequiredService<IUsageStore>());

        var accounts = host.Services.GetRequiredService<IAccountStore>();
        var account = await accounts.CreateAccountAsync("Acme");
        var issued = (await accounts.IssueKeyAsync(account.Id))!;
        Assert.Equal(account.Id, (await accounts.AuthenticateAsync(issued.Secret))?.AccountId);
        Assert.Equal([account], await accounts.ListAccountsAsync());
        await host.StopAsync();
    }

    [Theory]
    [InlineData("Redis:ConnectionString", "")]
    [InlineData("Redis:KeyPrefix", "bad{prefix}")]
    [InlineData("Redis:KeyCacheTtl", "02:00:00")]
    [InlineData("Redis:KeyCacheCapacity", "0")]
    [InlineData("Redis:ReservationRetention", "00:01:00")]
    public async Task A_bad_setting_fails_the_start_with_a_message_naming_its_key(string key, string value)
    {
        using var dir = new TempFolder();
        var settings = new Dictionary<string, string?>
        {
            ["Store:Path"] = dir.DbPath,
            ["Redis:ConnectionString"] = "127.0.0.1:1",
            [key] = value,
        };
        using var host = BuildHost(settings);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(key, error.Message, StringComparison.Ordinal);
    }
}
