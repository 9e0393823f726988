using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Time.Testing;

namespace MeterAgent.Ledger.Tests.Sqlite;

public sealed class SqliteAccountStoreTests
{
    [Fact]
    public async Task Created_account_can_be_read_back_and_listed()
    {
        using var dir = new TempFolder();
        await using var store = TestStore.Open(dir.DbPath);

        var account = await store.Accounts.CreateAccountAsync("Acme");
        var other = await store.Accounts.CreateAccountAsync("Globex");

        Assert.Matches(new Regex("^acct_[0-9a-f]{16}$"), account.Id);
        Assert.NotEqual(account.Id, other.Id);
        Assert.Equal(account, await store.Accounts.GetAccountAsync(account.Id));
        Assert.Null(await store.Accounts.GetAccountAsync("acct_0000000000000000"));
        var all = await store.Accounts.ListAccountsAsync();
        Assert.Equal(2, all.Count);
        Assert.Contains(account, all);
        Assert.Contains(other, all);
    }

    [Fact]
    public async Task Issue_authenticate_revoke_lifecycle()
    {
        using var dir = new TempFolder();
        await using var store = TestStore.Open(dir.DbPath);
        var account = await store.Accounts.CreateAccountAsync("Acme");

        var issued = await store.Accounts.IssueKeyAsync(account.Id);

        Assert.NotNull(issued);
        Assert.Matches(new Regex("^ma-[A-Za-z0-9_-]{43}$"), issued.Secret);
        Assert.Matches(new Regex("^key_[0-9a-f]{16}$"), issued.Info.KeyId);
        Assert.Equal(issued.Secret[..8], issued.Info.Prefix);
        Assert.Equal(account.Id, issued.Info.AccountId);
        Assert.Null(issued.Info.RevokedAt);

        Assert.Equal(issued.Info, await store.Accounts.AuthenticateAsync(issued.Secret));

        // A near miss (last character changed) is not the key.
        var last = issued.Secret[^1] == 'A' ? 'B' : 'A';
        Assert.Null(await store.Accounts.AuthenticateAsync(issued.Secret[..^1] + last));

        Assert.True(await store.Accounts.RevokeKeyAsync(issued.Info.KeyId));

        // The positive lookup above is cached; revocation must still be immediate on this node.
        Assert.Null(await store.Accounts.AuthenticateAsync(issued.Secret));
        var listed = Assert.Single(await store.Accounts.ListKeysAsync(account.Id));
        Assert.Equal(issued.Info.KeyId, listed.KeyId);
        Assert.NotNull(listed.RevokedAt);

        Assert.False(await store.Accounts.RevokeKeyAsync("key_0000000000000000"));
    }

    [Fact]
    public async Task Revoking_one_key_leaves_the_accounts_other_keys_working()
    {
        using var dir = new TempFolder();
        await using var store = TestStore.Open(dir.DbPath);
        var account = await store.Accounts.CreateAccountAsync("Acme");
        var first = (await store.Accounts.IssueKeyAsync(account.Id))!;
        var second = (await store.Accounts.IssueKeyAsync(account.Id))!;

        Assert.True(await store.Accounts.RevokeKeyAsync(first.Info.KeyId));

        Assert.Null(await store.Accounts.AuthenticateAsync(first.Secret));
        Assert.Equal(second.Info, await store.Accounts.AuthenticateAsync(second.Secret));
        Assert.Equal(2, (await store.Accounts.ListKeysAsync(account.Id)).Count);
    }

    [Fact]
    public async Task Issuing_for_a_missing_account_returns_null_and_stores_nothing()
    {
        using var dir = new TempFolder();
        await using var store = TestStore.Open(dir.DbPath);

        Assert.Null(await store.Accounts.IssueKeyAsync("acct_0000000000000000"));
        Assert.Empty(await store.Accounts.ListKeysAsync("acct_0000000000000000"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("Bearer")]
    [InlineData("sk-not-ours-0000000000000000000000000000000000")]
    [InlineData("ma-short")]
    public async Task Malformed_keys_are_refused_without_a_database_lookup(string presented)
    {
        using var dir = new TempFolder();
        await using var store = TestStore.Open(dir.DbPath);

        Assert.Null(await store.Accounts.AuthenticateAsync(presented));
        Assert.Equal(0, store.Accounts.DatabaseLookups);
    }

    [Fact]
    public async Task The_secret_is_never_written_to_the_database_file_only_its_hash()
    {
        using var dir = new TempFolder();
        string secret;
        string keyId;
        await using (var store = TestStore.Open(dir.DbPath))
        {
            var account = await store.Accounts.CreateAccountAsync("Acme");
            var issued = (await store.Accounts.IssueKeyAsync(account.Id))!;
            secret = issued.Secret;
            keyId = issued.Info.KeyId;
            Assert.NotNull(await store.Accounts.AuthenticateAsync(secret));
        }

        // Everything SQLite left on disk: the database and any WAL or shared-memory file.
        var bytes = Directory.GetFiles(dir.Path).SelectMany(File.ReadAllBytes).ToArray();
        var text = Encoding.ASCII.GetString(bytes);

        // The search works: the key id and the hash are there.
        Assert.Contains(keyId, text, StringComparison.Ordinal);
        Assert.Contains(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret))), text, StringComparison.Ordinal);

        // The secret is not, in whole or beyond its display prefix.
        Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        Assert.DoesNotContain(secret[8..], text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Lookups_found_and_not_found_are_cached_until_the_ttl_expires()
    {
        using var dir = new TempFolder();
        var clock = new FakeTimeProvider(UsageRecords.T0);
        await using var store = TestStore.Open(dir.DbPath, clock, o => o.KeyCacheTtl = TimeSpan.FromSeconds(5));
        var account = await store.Accounts.CreateAccountAsync("Acme");
        var issued = (await store.Accounts.IssueKeyAsync(account.Id))!;
        var unknown = "ma-" + new string('x', 43);

        Assert.NotNull(await store.Accounts.AuthenticateAsync(issued.Secret));
        Assert.Null(await store.Accounts.AuthenticateAsync(unknown));
        Assert.Equal(2, store.Accounts.DatabaseLookups);

        for (var i = 0; i < 10; i++)
        {
            Assert.NotNull(await store.Accounts.AuthenticateAsync(issued.Secret));
            Assert.Null(await store.Accounts.AuthenticateAsync(unknown));
        }

        Assert.Equal(2, store.Accounts.DatabaseLookups);

        clock.Advance(TimeSpan.FromSeconds(5));
        Assert.NotNull(await store.Accounts.AuthenticateAsync(issued.Secret));
        Assert.Null(await store.Accounts.AuthenticateAsync(unknown));
        Assert.Equal(4, store.Accounts.DatabaseLookups);
    }

    [Fact]
    public async Task The_cache_alone_answers_only_for_a_key_it_holds_and_never_after_revocation_or_its_ttl()
    {
        using var dir = new TempFolder();
        var clock = new FakeTimeProvider(UsageRecords.T0);
        await using var store = TestStore.Open(dir.DbPath, clock, o => o.KeyCacheTtl = TimeSpan.FromSeconds(5));
        var account = await store.Accounts.CreateAccountAsync("Acme");
        var issued = (await store.Accounts.IssueKeyAsync(account.Id))!;
        var second = (await store.Accounts.IssueKeyAsync(account.Id))!;

        // Not looked up yet: only the store can tell.
        Assert.False(store.Accounts.TryAuthenticateCached(issued.Secret, out _));

        // Text that cannot be a key is answered at once, as no key.
        Assert.True(store.Accounts.TryAuthenticateCached("sk-not-ours-0000000000000000000000000000000000", out var notOurs));
        Assert.Null(notOurs);

        Assert.NotNull(await store.Accounts.AuthenticateAsync(issued.Secret));
        Assert.True(store.Accounts.TryAuthenticateCached(("Bearer " + issued.Secret).AsSpan(7), out var cached));
        Assert.Equal(issued.Info.KeyId, cached!.KeyId);

        // The same shape with one character changed is another key, not this one.
        var forged = issued.Secret[..^1] + (issued.Secret[^1] == 'A' ? 'B' : 'A');
        Assert.False(store.Accounts.TryAuthenticateCached(forged, out _));
        Assert.False(store.Accounts.TryAuthenticateCached(second.Secret, out _));
        Assert.Equal(1, store.Accounts.DatabaseLookups);

        Assert.True(await store.Accounts.RevokeKeyAsync(issued.Info.KeyId));
        Assert.False(store.Accounts.TryAuthenticateCached(issued.Secret, out _));
        Assert.Null(await store.Accounts.AuthenticateAsync(issued.Secret));

        Assert.NotNull(await store.Accounts.AuthenticateAsync(second.Secret));
        clock.Advance(TimeSpan.FromSeconds(5));
        Assert.False(store.Accounts.TryAuthenticateCached(second.Secret, out _));
    }

    [Fact]
    public async Task A_revocation_by_another_node_takes_effect_here_within_the_ttl()
    {
        using var dir = new TempFolder();
        var clock = new FakeTimeProvider(UsageRecords.T0);
        await using var here = TestStore.Open(dir.DbPath, clock, o => o.KeyCacheTtl = TimeSpan.FromSeconds(5));
        await using var elsewhere = TestStore.Open(dir.DbPath, clock);
        var account = await here.Accounts.CreateAccountAsync("Acme");
        var issued = (await here.Accounts.IssueKeyAsync(account.Id))!;
        Assert.NotNull(await here.Accounts.AuthenticateAsync(issued.Secret));

        Assert.True(await elsewhere.Accounts.RevokeKeyAsync(issued.Info.KeyId));

        // Still cached here (this is the documented staleness bound), gone once the entry expires.
        Assert.NotNull(await here.Accounts.AuthenticateAsync(issued.Secret));
        clock.Advance(TimeSpan.FromSeconds(5));
        Assert.Null(await here.Accounts.AuthenticateAsync(issued.Secret));
    }

    [Fact]
    public async Task The_cache_stays_within_its_capacity_under_a_flood_of_unknown_keys()
    {
        using var dir = new TempFolder();
        await using var store = TestStore.Open(dir.DbPath, configure: o => o.KeyCacheCapacity = 10);

        for (var i = 0; i < 100; i++)
        {
            var random = "ma-" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
            Assert.Null(await store.Accounts.AuthenticateAsync(random));
            Assert.InRange(store.Accounts.CachedKeys, 1, 10);
        }

        Assert.Equal(100, store.Accounts.DatabaseLookups);
    }

    [Fact]
    public async Task A_flood_of_unknown_keys_never_evicts_a_key_in_use()
    {
        using var dir = new TempFolder();
        await using var store = TestStore.Open(dir.DbPath, configure: o => o.KeyCacheCapacity = 10);
        var account = await store.Accounts.CreateAccountAsync("Acme");
        var issued = (await store.Accounts.IssueKeyAsync(account.Id))!;
        Assert.NotNull(await store.Accounts.AuthenticateAsync(issued.Secret));
        var lookups = store.Accounts.DatabaseLookups;

        for (var i = 0; i < 100; i++)
        {
            var random = "ma-" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
            Assert.Null(await store.Accounts.AuthenticateAsync(random));
        }

        // Every random key cost one lookup; the real key, still cached, none.
        Assert.Equal(lookups + 100, store.Accounts.DatabaseLookups);
        Assert.Equal(account.Id, (await store.Accounts.AuthenticateAsync(issued.Secret))!.AccountId);
        Assert.Equal(lookups + 100, store.Accounts.DatabaseLookups);
    }

    [Fact]
    public async Task The_database_and_its_wal_are_readable_by_their_owner_only()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        using var dir = new TempFolder();
        var path = Path.Combine(dir.Path, "private", "store.db");
        await using (var store = TestStore.Open(path))
        {
            await store.Accounts.CreateAccountAsync("Acme");
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(path)!));
            foreach (var file in new[] { path, path + "-wal", path + "-shm" })
            {
                Assert.True(File.Exists(file), $"{file} missing");
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
            }
        }

        // A file left world-readable (an older build, a copy) is narrowed when opened.
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        await using (TestStore.Open(path))
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
    }
}
