using System.Collections.Concurrent;
using MeterAgent.Ledger.RateLimits;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// Rate limit policies in the <c>rate_limits</c> table, read once at start into memory and written through: the request
/// path never touches the file. One node owns the file, so the copy in memory is the truth; a change made through
/// another process would be seen after a restart.
/// </summary>
public sealed class SqliteRateLimitPolicyStore : IRateLimitPolicyStore, IDisposable
{
    private readonly SqliteWriter _writer;
    private readonly ConcurrentDictionary<RateLimitSubject, RateLimitPolicy> _policies = new();

    // Orders writes with their cache updates, so memory ends as the file does when two admins race on one subject.
    private readonly SemaphoreSlim _writes = new(1, 1);

    public SqliteRateLimitPolicyStore(SqliteWriter writer, SqliteDatabase database)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(database);
        _writer = writer;
        using var connection = database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = RateLimitSql.SelectAll;
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var keyId = reader.GetString(1);
            var subject = new RateLimitSubject(reader.GetString(0), keyId.Length == 0 ? null : keyId);
            _policies[subject] = new RateLimitPolicy(
                reader.IsDBNull(2) ? null : reader.GetInt64(2),
                reader.IsDBNull(3) ? null : reader.GetInt64(3));
        }
    }

    public ValueTask<RateLimitPolicy?> GetAsync(RateLimitSubject subject, CancellationToken cancellationToken = default) =>
        new(_policies.TryGetValue(subject, out var policy) ? policy : null);

    public async Task SetAsync(RateLimitSubject subject, RateLimitPolicy policy, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(subject.AccountId, nameof(subject));
        ArgumentNullException.ThrowIfNull(policy);
        if (policy.Problem() is { } problem)
        {
            throw new ArgumentException(problem, nameof(policy));
        }

        await _writes.WaitAsync(cancellationToken);
        try
        {
            await _writer.SubmitAsync(new SetRateLimitWrite(subject, policy), cancellationToken);
            _policies[subject] = policy;
        }
        finally
        {
            _writes.Release();
        }
    }

    public async Task<bool> ClearAsync(RateLimitSubject subject, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(subject.AccountId, nameof(subject));
        await _writes.WaitAsync(cancellationToken);
        try
        {
            var removed = await _writer.SubmitAsync(new SetRateLimitWrite(subject, null), cancellationToken);
            _policies.TryRemove(subject, out _);
            return removed;
        }
        finally
        {
            _writes.Release();
        }
    }

    public void Dispose() => _writes.Dispose();
}
