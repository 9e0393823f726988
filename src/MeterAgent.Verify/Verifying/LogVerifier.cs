using System.Globalization;
using System.Text;

namespace MeterAgent.Verify.Verifying;

/// <summary>
/// One run of <c>verify</c>, in the order that makes each step's input trusted before it is used: the checkpoint (the
/// log's signature, the witnesses' quorum), the tree rebuilt from every entry under that checkpoint, consistency with
/// the checkpoint saved by the previous run (then this one is saved), and the statements against that tree.
/// </summary>
internal static class LogVerifier
{
    /// <summary>The one-line summary; a <see cref="VerificationFault"/> names the first fault found.</summary>
    public static async Task<string> RunAsync(VerifyOptions options, TextWriter stderr, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        using var source = Open(options);
        var progress = new Progress(stderr);

        var checkpoint = await CheckpointCheck.RunAsync(source, options, cancellationToken);
        var size = checkpoint.Checkpoint.TreeSize;

        // Statements are read first only to know which entries to keep whole; nothing in them is trusted yet.
        var statements = await StatementCheck.LoadAsync(source, options.Keys, progress, cancellationToken);
        var counted = statements
            .SelectMany(s => s.Statement?.Leaves ?? [])
            .Where(leaf => leaf >= 0 && leaf < size)
            .ToHashSet();
        var tree = await TreeCheck.RunAsync(source, checkpoint.Checkpoint, counted, progress, cancellationToken);

        long? saved = null;
        if (options.StatePath is { } state)
        {
            saved = StateFile.Check(state, checkpoint, tree, options.Keys);
            StateFile.Save(state, checkpoint.Note);
        }

        var summary = StatementCheck.Check(statements, checkpoint, tree);
        return Summary(options, checkpoint, tree, saved, summary);
    }

    private static ILogSource Open(VerifyOptions options) =>
        options.Source.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || options.Source.StartsWith("https://", StringComparison.OrdinalIgnoreCase)
            ? new HttpLogSource(new Uri(options.Source), options.Token)
            : new DirectoryLogSource(options.Source);

    private static string Summary(VerifyOptions options, VerifiedCheckpoint checkpoint, VerifiedTree tree, long? saved, StatementSummary statements)
    {
        var c = checkpoint.Checkpoint;
        var line = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"verified {c.Origin}: size {c.TreeSize}, root {Convert.ToBase64String(c.RootHash)}, signed by {checkpoint.LogSignature}");
        if (options.Witnesses.Count > 0)
        {
            line.Append(CultureInfo.InvariantCulture, $"; cosigned by {checkpoint.Cosignatures.Count} of {options.Witnesses.Count} witnesses (quorum {options.Quorum})");
        }

        line.Append(CultureInfo.InvariantCulture, $"; {tree.Size} entries and {tree.Tiles} {(tree.Tiles == 1 ? "tile" : "tiles")} match");
        if (options.StatePath is { } state)
        {
            line.Append(saved is { } size
                ? string.Create(CultureInfo.InvariantCulture, $"; extends size {size} saved in {state}")
                : $"; first run, saved to {state}");
        }

        line.Append(CultureInfo.InvariantCulture, $"; {statements.Count} statements");
        if (statements.Count > 0)
        {
            line.Append(CultureInfo.InvariantCulture, $" ({statements.Contracts} contracts, {statements.CountedLeaves} leaves counted once, complete to size {statements.TreeSize})");
        }

        return line.ToString();
    }
}
