namespace MeterAgent.Verify.Verifying;

/// <summary>
/// Where the log is read from: the management port's API or a directory holding the same relative paths. Both are
/// untrusted: everything read is checked against the log's key and the recomputed tree.
/// </summary>
internal interface ILogSource : IDisposable
{
    /// <summary>The resource at <paramref name="path"/> (e.g. <c>log/checkpoint</c>), or null when there is none.</summary>
    Task<byte[]?> GetAsync(string path, CancellationToken cancellationToken);

    /// <summary>Every statement the log lists, in the order listed.</summary>
    Task<IReadOnlyList<StatementListing>> ListStatementsAsync(CancellationToken cancellationToken);
}

/// <summary>
/// One row of <c>log/statements</c>, checked against the signed statement when <see cref="Listed"/>; a directory
/// without the list gives the sequence alone.
/// </summary>
internal sealed record StatementListing(
    long Sequence,
    string? ContractId = null,
    DateTimeOffset? IntervalStart = null,
    DateTimeOffset? IntervalEnd = null,
    long? Amends = null,
    long? TreeSize = null,
    string? Digest = null,
    bool Listed = false);

/// <summary>The source could not be read (not a fault of the log's content): the tool names it and exits 1.</summary>
internal sealed class LogSourceException : Exception
{
    public LogSourceException(string message)
        : base(message)
    {
    }

    public LogSourceException()
    {
    }

    public LogSourceException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
