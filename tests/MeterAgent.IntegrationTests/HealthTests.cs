using System.Net;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace MeterAgent.IntegrationTests;

/// <summary>
/// Readiness as an SRE reads it: 200 while every check passes, 503 naming the check that fails, provoked for real
/// (another connection holds the store's write lock), and degraded contracts that still serve.
/// </summary>
public sealed class HealthTests
{
    private static async Task<(HttpStatusCode Status, JsonElement Body)> GetAsync(TestAgent agent, string path)
    {
        using var anonymous = new HttpClient { BaseAddress = new Uri(agent.ManagementUrl), Timeout = TimeSpan.FromSeconds(30) };
        using var response = await anonymous.GetAsync(path);
        Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
        return (response.StatusCode, body);
    }

    private static string CheckStatus(JsonElement body, string check) =>
        body.GetProperty("checks").GetProperty(check).GetProperty("status").GetString()!;

    [Fact]
    public async Task Ready_names_each_check_and_live_runs_none()
    {
        await using var agent = await TestAgent.StartAsync();

        var (status, ready) = await GetAsync(agent, "healthz/ready");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Healthy", ready.GetProperty("status").GetString());
        Assert.Equal("Healthy", CheckStatus(ready, "store"));
        Assert.Equal("Healthy", CheckStatus(ready, "tokenizer"));
        Assert.Equal("Healthy", CheckStatus(ready, "contracts"));
        Assert.StartsWith("o200k_base sha256:", ready.GetProperty("checks").GetProperty("tokenizer").GetProperty("description").GetString(), StringComparison.Ordinal);

        var (liveStatus, live) = await GetAsync(agent, "healthz/live");
        Assert.Equal(HttpStatusCode.OK, liveStatus);
        Assert.Equal("Healthy", live.GetProperty("status").GetString());
        Assert.Empty(live.GetProperty("checks").EnumerateObject());
    }

    [Fact]
    public async Task A_store_that_reads_but_cannot_commit_is_not_ready_until_the_lock_is_released()
    {
        await using var agent = await TestAgent.StartAsync(settings: new Dictionary<string, string?> { ["Store:BusyTimeout"] = "00:00:01" });
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(agent, "healthz/ready")).Status);

        // Another process's connection (a backup tool, a second agent on the same file) takes the write lock. In WAL mode
        // reads go on, so a read-only check would still say ready.
        await using (var other = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = agent.DatabasePath, DefaultTimeout = 10 }.ToString()))
        {
            await other.OpenAsync();
            await using var transaction = await other.BeginTransactionAsync();
            await using (var write = other.CreateCommand())
            {
                write.Transaction = (SqliteTransaction)transaction;
                write.CommandText = "CREATE TABLE health_test_lock (id INTEGER)";
                await write.ExecuteNonQueryAsync();
            }

            var (status, ready) = await GetAsync(agent, "healthz/ready");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.Equal("Unhealthy", ready.GetProperty("status").GetString());
            Assert.Equal("Unhealthy", CheckStatus(ready, "store"));
            Assert.Equal("usage store cannot commit a write", ready.GetProperty("checks").GetProperty("store").GetProperty("description").GetString());
            Assert.Equal("Healthy", CheckStatus(ready, "tokenizer"));
            Assert.Equal(HttpStatusCode.OK, (await GetAsync(agent, "healthz/live")).Status);
            await transaction.RollbackAsync();
        }

        await Eventually.TrueAsync(async () => (await GetAsync(agent, "healthz/ready")).Status == HttpStatusCode.OK, "ready again once the lock is gone");
    }

    [Fact]
    public async Task A_contract_spec_that_no_longer_loads_degrades_ready_without_failing_it()
    {
        using var house = ClearingHouse.Create();
        await using var agent = await TestAgent.StartAsync(settings: house.AgentSettings());
        var (status, ready) = await GetAsync(agent, "healthz/ready");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Healthy", CheckStatus(ready, "contracts"));
        Assert.Equal("1 contract specs loaded", ready.GetProperty("checks").GetProperty("contracts").GetProperty("description").GetString());

        // An operator drops in a broken spec: this replica serves as before, but its next start would stop.
        await File.WriteAllTextAsync(Path.Combine(house.Directory, "contracts", "broken.v1.json"), """{"id":"broken","version":"one"}""");
        (status, ready) = await GetAsync(agent, "healthz/ready");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Degraded", ready.GetProperty("status").GetString());
        Assert.Equal("Degraded", CheckStatus(ready, "contracts"));
        Assert.Contains("broken.v1.json", ready.GetProperty("checks").GetProperty("contracts").GetProperty("description").GetString(), StringComparison.Ordinal);
    }
}
