using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using MeterAgent.Attestation.Checkpoints;
using MeterAgent.Attestation.Entries;
using MeterAgent.Attestation.Merkle;
using MeterAgent.Attestation.Notes;
using MeterAgent.Attestation.Statements;
using MeterAgent.Attestation.Tiles;

namespace MeterAgent.Verify.Tests;

/// <summary>
/// A usage log written out as the log's API would serve it (log/checkpoint, log/tile/..., log/statements/&lt;seq&gt;,
/// log/statements.json), built from the pure library with a test key. Statements are closed as the statement rules of
/// the API contract say: at a tree size, one statement per (contract, hour interval) not yet stated, and one amending
/// statement per stated interval with new leaves. Hooks alter a statement before it is signed, so a test can break one
/// rule while the rest stays consistent (the chain, the list's digests).
/// </summary>
internal sealed class LogFixture
{
    public const string Origin = "meteragent.test/log";
    public static readonly DateTimeOffset Day = new(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly List<UsageEntry> _entries = [];
    private readonly List<(long TreeSize, List<UsageStatement> Statements)> _passes = [];

    public LogFixture(NoteSigner? key = null)
    {
        Key = key ?? NoteSigner.Parse(NoteKeyPair.Generate(Origin).SignerKey);
        SignerOf = _ => Key;
    }

    public NoteSigner Key { get; }

    public string VerifierKey => Key.Verifier.VerifierKey;

    public IReadOnlyList<UsageEntry> Entries => _entries;

    /// <summary>Alters statement n (by sequence) before it is signed.</summary>
    public Func<UsageStatement, UsageStatement> Alter { get; set; } = s => s;

    /// <summary>The key statement n is signed with (the log's by default).</summary>
    public Func<long, NoteSigner> SignerOf { get; set; }

    /// <summary>The standard scenario: two contracts, two accounts, records without a contract, late records.</summary>
    public static LogFixture Standard(NoteSigner? key = null)
    {
        var log = new LogFixture(key);
        log.Add("acme", "c1", 5, 100, 20)       // 0  c1 hour 0
            .Add("globex", "c1", 10, 200, 40)   // 1  c1 hour 0
            .Add("acme", "c2", 15, 50, 10)      // 2  c2 hour 0
            .Add("acme", null, 20, 10, 1)       // 3  no contract
            .Add("acme", "c1", 30, 120, 30)     // 4  c1 hour 0
            .Add("globex", "c2", 40, 80, 8)     // 5  c2 hour 0
            .Add("acme", "c1", 65, 90, 9)       // 6  c1 hour 1
            .Add("globex", "c1", 70, 60, 6);    // 7  c1 hour 1
        log.Close();                            // statements 1..3 at size 8: (c1,0) (c2,0) (c1,1)
        log.Add("acme", "c1", 50, 70, 7)        // 8  c1 hour 0, late: amends 1
            .Add("globex", "c2", 75, 40, 4)     // 9  c2 hour 1
            .Add("acme", null, 80, 5, 5)        // 10 no contract
            .Add("globex", "c1", 55, 30, 3);    // 11 c1 hour 0, late: amends 1
        log.Close();                            // statements 4..5 at size 12: (c2,1), then (c1,0) amending 1
        log.Add("acme", "c1", 125, 11, 1)       // 12 c1 hour 2, not stated yet
            .Add("globex", "c2", 5, 22, 2);     // 13 c2 hour 0, late, not stated yet
        return log;
    }

    public LogFixture Add(string account, string? contract, int startMinute, long referenceInput, long referenceOutput)
    {
        var start = Day.AddMinutes(startMinute);
        var index = _entries.Count;
        _entries.Add(new UsageEntry
        {
            UsageId = string.Create(CultureInfo.InvariantCulture, $"u{index:D4}"),
            AccountId = account,
            Surface = "openai.chat_completions",
            RequestedModel = "emu-chat",
            ServedModel = "emu-chat",
            StartedAtMicros = start.ToUnixTimeMilliseconds() * 1000,
            EndedAtMicros = start.AddSeconds(2).ToUnixTimeMilliseconds() * 1000,
            Status = "completed",
            NativeInputTokens = index % 3 == 0 ? null : referenceInput + 1,
            NativeOutputTokens = index % 3 == 0 ? null : referenceOutput,
            ReferenceInputTokens = referenceInput,
            ReferenceOutputTokens = referenceOutput,
            ReferenceTokenizer = "o200k_base",
            ContractId = contract,
            ContractVersion = contract is null ? null : 1,
            UnitsMicro = contract is null ? null : (referenceInput + referenceOutput) * 1000,
            RedeemedMicro = contract is null ? 0 : (referenceInput + referenceOutput) * 900,
            OverageMicro = contract is null ? 0 : (referenceInput + referenceOutput) * 100,
            UnitsBasis = contract is null ? null : "reference",
            NonTextInput = index == 5,
        });
        return this;
    }

    /// <summary>A closing pass at the current size (the statement closer's rules, every interval treated as ended).</summary>
    public LogFixture Close()
    {
        var size = _entries.Count;
        var from = _passes.Count == 0 ? 0 : _passes[^1].TreeSize;
        var stated = _passes.SelectMany(p => p.Statements).ToList();
        var statements = new List<UsageStatement>();
        var keys = Enumerable.Range(0, size)
            .Where(i => _entries[i].ContractId is not null)
            .Select(i => (Contract: _entries[i].ContractId!, Hour: Hour(_entries[i])))
            .Distinct()
            .OrderBy(k => stated.Any(s => Matches(s, k)) ? 1 : 0)
            .ThenBy(k => k.Hour)
            .ThenBy(k => k.Contract, StringComparer.Ordinal);
        foreach (var key in keys)
        {
            var earlier = stated.LastOrDefault(s => Matches(s, key));
            var leaves = Enumerable.Range(earlier is null ? 0 : (int)from, size - (earlier is null ? 0 : (int)from))
                .Where(i => _entries[i].ContractId == key.Contract && Hour(_entries[i]) == key.Hour)
                .Select(i => (long)i)
                .ToList();
            if (earlier is not null && leaves.Count == 0)
            {
                continue;
            }

            statements.Add(new UsageStatement
            {
                Sequence = 0,
                ContractId = key.Contract,
                IntervalStart = Day.AddHours(key.Hour),
                IntervalEnd = Day.AddHours(key.Hour + 1),
                LogOrigin = Origin,
                TreeSize = size,
                RootHash = [],
                Leaves = leaves,
                Accounts = StatementTotals.Sum(leaves.Select(i => _entries[(int)i])),
                Amends = earlier?.Sequence,
            });
        }

        // Amending statements come after the new intervals' in the fixture's order; numbering is global.
        var next = stated.Count + 1;
        statements = [.. statements.Select(s => s with { Sequence = next++ })];
        _passes.Add((size, statements));
        return this;
    }

    /// <summary>Every statement as built, before signing and altering.</summary>
    public IReadOnlyList<UsageStatement> Statements => [.. _passes.SelectMany(p => p.Statements)];

    public byte[] Root(long size)
    {
        var tree = Tree(_entries.Select(entry => UsageEntryEncoding.Encode(entry)));
        var root = new byte[32];
        tree.Log.RootHash(size, root);
        return root;
    }

    /// <summary>The checkpoint note of the whole log, signed by the log's key.</summary>
    public byte[] CheckpointNote(long? size = null) => CheckpointNote(Key, size ?? _entries.Count, Root(size ?? _entries.Count));

    public static byte[] CheckpointNote(NoteSigner key, long size, byte[] root) =>
        SignedNote.Sign(new Checkpoint(Origin, size, root).Format(), key).Encode();

    /// <summary>Writes the log's API under <paramref name="directory"/>, as the agent would serve it.</summary>
    public void WriteTo(string directory)
    {
        var encoded = _entries.Select(entry => UsageEntryEncoding.Encode(entry)).ToList();
        Write(directory, "log/checkpoint", CheckpointNote());
        WriteTiles(directory, encoded);
        WriteStatements(directory, Tree(encoded).Log);
    }

    /// <summary>
    /// Rewrites the entry bundle (of a log under 256 entries) with <paramref name="change"/> applied to its entries;
    /// with <paramref name="rebuildTiles"/> the hash tiles are made to match, as a careful forger would.
    /// </summary>
    public static void RewriteEntries(string directory, Func<List<byte[]>, List<byte[]>> change, bool rebuildTiles = false)
    {
        var folder = Path.Combine(directory, "log", "tile", "entries");
        var bundle = Directory.GetFiles(folder, "*", SearchOption.AllDirectories).Single();
        var entries = new List<byte[]>();
        var reader = new EntryBundleReader(File.ReadAllBytes(bundle));
        while (reader.TryReadNext(out var entry))
        {
            entries.Add(entry.ToArray());
        }

        var changed = change(entries);
        if (rebuildTiles)
        {
            Directory.Delete(Path.Combine(directory, "log", "tile"), recursive: true);
            WriteTiles(directory, changed);
            return;
        }

        var written = new ArrayBufferWriter<byte>();
        foreach (var entry in changed)
        {
            EntryBundle.Append(written, entry);
        }

        File.WriteAllBytes(bundle, written.WrittenSpan.ToArray());
    }

    /// <summary>The statement with its accounts summed again from its leaves (so only the rule a test breaks is broken).</summary>
    public UsageStatement Recount(UsageStatement statement) =>
        statement with { Accounts = StatementTotals.Sum(statement.Leaves.Select(i => _entries[(int)i])) };

    private static void WriteTiles(string directory, IReadOnlyList<byte[]> entries)
    {
        var (hashes, _) = Tree(entries);
        foreach (var tile in TileLayout.Tiles(entries.Count))
        {
            Write(directory, "log/" + TilePath.Tile(tile), TileBuilder.Build(hashes, tile));
            if (tile.Level == 0)
            {
                var bundle = new ArrayBufferWriter<byte>();
                foreach (var entry in entries.Skip((int)(tile.Index * TileLayout.Width)).Take(tile.Width))
                {
                    EntryBundle.Append(bundle, entry);
                }

                Write(directory, "log/" + TilePath.EntryBundle(tile), bundle.WrittenSpan.ToArray());
            }
        }
    }

    private void WriteStatements(string directory, MerkleLog tree)
    {
        var rows = new List<object>();
        byte[]? previous = null;
        foreach (var statement in Statements)
        {
            var root = new byte[32];
            tree.RootHash(statement.TreeSize, root);
            var signed = Alter(statement with { RootHash = root, PreviousDigest = previous });
            var envelope = StatementEnvelope.Sign(signed, SignerOf(statement.Sequence));
            Write(directory, string.Create(CultureInfo.InvariantCulture, $"log/statements/{statement.Sequence}"), envelope);
            previous = SHA256.HashData(envelope);
            rows.Add(new
            {
                sequence = signed.Sequence,
                contract_id = signed.ContractId,
                interval_start = signed.IntervalStart.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
                interval_end = signed.IntervalEnd.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
                amends = signed.Amends,
                tree_size = signed.TreeSize,
                digest = Convert.ToHexStringLower(previous),
            });
        }

        Write(directory, "log/statements.json", JsonSerializer.SerializeToUtf8Bytes(new { statements = rows, next = rows.Count == 0 ? (long?)null : rows.Count }));
    }

    public static void Write(string directory, string path, byte[] bytes)
    {
        var file = Path.Combine(directory, path.Replace('/', Path.DirectorySeparatorChar));
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.WriteAllBytes(file, bytes);
    }

    private static (InMemoryHashStore Hashes, MerkleLog Log) Tree(IEnumerable<byte[]> entries)
    {
        var store = new InMemoryHashStore();
        var log = new MerkleLog(store);
        foreach (var entry in entries)
        {
            log.Append(entry);
        }

        return (store, log);
    }

    private static int Hour(UsageEntry entry) =>
        (int)((DateTimeOffset.FromUnixTimeMilliseconds(entry.StartedAtMicros / 1000) - Day).TotalHours);

    private static bool Matches(UsageStatement statement, (string Contract, int Hour) key) =>
        statement.ContractId == key.Contract && statement.IntervalStart == Day.AddHours(key.Hour);
}
