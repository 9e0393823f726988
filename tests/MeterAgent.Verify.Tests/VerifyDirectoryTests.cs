using System.Text;
using MeterAgent.Attestation.Entries;
using MeterAgent.Attestation.Notes;

namespace MeterAgent.Verify.Tests;

/// <summary>
/// <c>meteragent verify</c> against a copy of the log's API in a directory, built from the pure library: the genuine
/// log passes, and each way of tampering with it fails naming the fault.
/// </summary>
public sealed class VerifyDirectoryTests : IDisposable
{
    private readonly TempFolder _folder = new("meteragent-verify-");
    private readonly LogFixture _log = LogFixture.Standard();

    private string Directory => _folder.File("copy");

    public void Dispose() => _folder.Dispose();

    private Task<VerifyRun> VerifyAsync(params string[] more) =>
        VerifyRun.RunAsync(["--log", Directory, "--key", _log.VerifierKey, .. more]);

    [Fact]
    public async Task The_genuine_log_passes_with_a_one_line_summary()
    {
        _log.WriteTo(Directory);

        var summary = (await VerifyAsync()).Passed();

        Assert.StartsWith("verified meteragent.test/log: size 14, root ", summary, StringComparison.Ordinal);
        Assert.Contains("14 entries and 1 tile match", summary, StringComparison.Ordinal);
        Assert.Contains("5 statements (2 contracts, 10 leaves counted once, complete to size 12)", summary, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_log_of_several_tiles_passes_and_a_full_tile_stands_in_for_a_replaced_partial_one()
    {
        var key = _log.Key;
        LogFixture Grown(int size)
        {
            var log = new LogFixture(key);
            for (var i = 0; i < size; i++)
            {
                log.Add(i % 2 == 0 ? "acme" : "globex", null, i % 1000, i, 1);
            }

            return log;
        }

        // Published at 600 (tiles 0/000, 0/001, 0/002.p/88, 1/000.p/2), then grown to 768: tile 0/002 became full and
        // its partial tile and bundle were deleted, as tlog-tiles allows once the full ones exist.
        Grown(600).WriteTo(Directory);
        var later = _folder.File("later");
        Grown(768).WriteTo(later);
        foreach (var path in new[] { "log/tile/0/002", "log/tile/entries/002" })
        {
            File.Copy(Path.Combine(later, path), Path.Combine(Directory, path));
            System.IO.Directory.Delete(Path.Combine(Directory, path + ".p"), recursive: true);
        }

        var summary = (await VerifyAsync()).Passed();

        Assert.Contains("size 600", summary, StringComparison.Ordinal);
        Assert.Contains("600 entries and 4 tiles match", summary, StringComparison.Ordinal);
        Assert.Contains("0 statements", summary, StringComparison.Ordinal);

        File.Delete(Path.Combine(Directory, "log", "tile", "1", "000.p", "2"));
        (await VerifyAsync()).Failed("log/tile/1/000.p/2 is missing");
    }

    [Fact]
    public async Task Without_the_list_file_the_envelopes_in_the_folder_are_the_list()
    {
        _log.WriteTo(Directory);
        File.Delete(Path.Combine(Directory, "log", "statements.json"));

        Assert.Contains("5 statements", (await VerifyAsync()).Passed(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_flipped_byte_in_an_entry_is_found()
    {
        _log.WriteTo(Directory);
        LogFixture.RewriteEntries(Directory, entries =>
        {
            entries[3][^2] ^= 0x01;
            return entries;
        });

        (await VerifyAsync()).Failed("leaf 3: its entry in tile/entries/000.p/14 does not hash to its leaf hash in tile/0/000.p/14");
    }

    [Fact]
    public async Task A_dropped_entry_is_found()
    {
        _log.WriteTo(Directory);
        LogFixture.RewriteEntries(Directory, entries => [.. entries.Where((_, i) => i != 6)]);

        (await VerifyAsync()).Failed("tile/entries/000.p/14 holds 13 entries, not 14");
    }

    [Fact]
    public async Task A_reordered_pair_is_found()
    {
        _log.WriteTo(Directory);
        LogFixture.RewriteEntries(Directory, entries =>
        {
            (entries[4], entries[5]) = (entries[5], entries[4]);
            return entries;
        });

        (await VerifyAsync()).Failed("leaf 4: its entry in tile/entries/000.p/14 does not hash");
    }

    [Fact]
    public async Task A_rewritten_history_with_matching_tiles_does_not_match_the_signed_root()
    {
        _log.WriteTo(Directory);
        LogFixture.RewriteEntries(
            Directory,
            entries => [.. entries.Select((e, i) => i == 2 ? UsageEntryEncoding.Encode(_log.Entries[2] with { ReferenceOutputTokens = 1 }) : e)],
            rebuildTiles: true);

        (await VerifyAsync()).Failed("the root recomputed from the entry bundles");
    }

    [Fact]
    public async Task A_checkpoint_not_signed_by_the_log_key_is_refused()
    {
        _log.WriteTo(Directory);
        var impostor = NoteSigner.Parse(NoteKeyPair.Generate(LogFixture.Origin).SignerKey);
        LogFixture.Write(Directory, "log/checkpoint", LogFixture.CheckpointNote(impostor, 14, _log.Root(14)));

        (await VerifyAsync()).Failed("the checkpoint is not signed by the log key");
    }

    [Fact]
    public async Task A_statement_signed_by_an_unknown_key_is_refused()
    {
        var unknown = NoteSigner.Parse(NoteKeyPair.Generate(LogFixture.Origin).SignerKey);
        _log.SignerOf = sequence => sequence == 2 ? unknown : _log.Key;
        _log.WriteTo(Directory);

        (await VerifyAsync()).Failed("statement 2: not signed by any of the log keys");

        // Once that key is given as an (old) log key, its statement verifies.
        (await VerifyAsync("--key", unknown.Verifier.VerifierKey)).Passed();
    }

    [Fact]
    public async Task A_forked_history_of_the_same_size_is_refused_by_the_state_file()
    {
        _log.WriteTo(Directory);
        var state = _folder.File("state.checkpoint");
        File.WriteAllBytes(state, LogFixture.CheckpointNote(_log.Key, 14, [.. Enumerable.Repeat((byte)7, 32)]));

        (await VerifyAsync("--state", state)).Failed($"forked: the checkpoint saved in {state} has size 14 and root");
    }

    [Fact]
    public async Task A_larger_tree_inconsistent_with_the_state_file_is_refused()
    {
        // The previous run saw the log at size 10 with another root: this larger log does not extend it.
        var state = _folder.File("state.checkpoint");
        File.WriteAllBytes(state, LogFixture.CheckpointNote(_log.Key, 10, [.. Enumerable.Repeat((byte)9, 32)]));
        _log.WriteTo(Directory);

        (await VerifyAsync("--state", state)).Failed("forked: the log's tree at size 10 has root");
    }

    [Fact]
    public async Task A_log_smaller_than_the_state_file_says_is_a_rollback()
    {
        var grown = LogFixture.Standard(_log.Key).Add("acme", "c1", 130, 1, 1);
        var state = _folder.File("state.checkpoint");
        File.WriteAllBytes(state, grown.CheckpointNote());
        _log.WriteTo(Directory);

        (await VerifyAsync("--state", state)).Failed("the log's checkpoint has size 14, below the size 15");
    }

    [Fact]
    public async Task The_state_file_is_saved_and_a_grown_log_extends_it()
    {
        var state = _folder.File("state.checkpoint");
        _log.WriteTo(Directory);

        Assert.Contains($"first run, saved to {state}", (await VerifyAsync("--state", state)).Passed(), StringComparison.Ordinal);
        Assert.Contains($"extends size 14 saved in {state}", (await VerifyAsync("--state", state)).Passed(), StringComparison.Ordinal);

        var grown = LogFixture.Standard(_log.Key).Add("acme", "c1", 130, 1, 1).Add("globex", null, 131, 2, 2);
        System.IO.Directory.Delete(Directory, recursive: true);
        grown.WriteTo(Directory);
        Assert.Contains("extends size 14", (await VerifyAsync("--state", state)).Passed(), StringComparison.Ordinal);
        Assert.Equal("16", Encoding.UTF8.GetString(File.ReadAllBytes(state)).Split('\n')[1]);
    }

    [Fact]
    public async Task A_statement_whose_sums_disagree_with_its_entries_is_refused()
    {
        _log.Alter = s => s.Sequence == 3
            ? s with { Accounts = [s.Accounts[0] with { ReferenceOutputTokens = s.Accounts[0].ReferenceOutputTokens + 2 }, .. s.Accounts.Skip(1)] }
            : s;
        _log.WriteTo(Directory);

        (await VerifyAsync()).Failed("statement 3: sums for account acme do not match its entries (reference_output_tokens 11 != 9)");
    }

    [Fact]
    public async Task A_broken_chain_is_refused()
    {
        _log.Alter = s => s.Sequence == 4 ? s with { PreviousDigest = new byte[32] } : s;
        _log.WriteTo(Directory);

        (await VerifyAsync()).Failed("statement 4: the chain is broken: previous_sha256 is 0000");
    }

    [Fact]
    public async Task A_double_counted_leaf_is_refused()
    {
        _log.Alter = s => s.Sequence == 5 ? _log.Recount(s with { Leaves = [0, 8, 11] }) : s;
        _log.WriteTo(Directory);

        (await VerifyAsync()).Failed("statement 5: leaf 0 is already counted by statement 1");
    }

    [Fact]
    public async Task A_leaf_of_a_stated_interval_left_out_of_every_statement_is_refused()
    {
        _log.Alter = s => s.Sequence == 5 ? _log.Recount(s with { Leaves = [8] }) : s;
        _log.WriteTo(Directory);

        (await VerifyAsync()).Failed("leaf 11 (contract c1, started at 2026-03-01T00:55:00Z) is in the interval of statement 1 but counted by no statement below tree size 12");
    }

    [Fact]
    public async Task A_leaf_outside_the_statements_interval_is_refused()
    {
        _log.Alter = s => s.Sequence == 3 ? _log.Recount(s with { Leaves = [4, 6, 7] }) : s;
        _log.WriteTo(Directory);

        (await VerifyAsync()).Failed("statement 3: leaf 4 started at 2026-03-01T00:30:00Z, outside its interval");
    }

    [Fact]
    public async Task A_leaf_of_another_contract_is_refused()
    {
        _log.Alter = s => s.Sequence == 4 ? _log.Recount(s with { Leaves = [9, 10] }) : s;
        _log.WriteTo(Directory);

        (await VerifyAsync()).Failed("statement 4: leaf 10 is a record without a contract, not c2");
    }

    [Fact]
    public async Task A_correction_that_amends_nothing_is_refused()
    {
        _log.Alter = s => s.Sequence == 5 ? s with { Amends = null } : s;
        _log.WriteTo(Directory);

        (await VerifyAsync()).Failed("statement 5: its contract and interval already have statement 1, and it amends none");
    }

    [Fact]
    public async Task A_statement_whose_root_is_not_the_logs_at_its_size_is_refused()
    {
        _log.Alter = s => s.Sequence == 2 ? s with { RootHash = _log.Root(7) } : s;
        _log.WriteTo(Directory);

        (await VerifyAsync()).Failed("statement 2: its root");
    }

    [Fact]
    public async Task A_gap_in_the_sequence_is_refused()
    {
        _log.WriteTo(Directory);
        File.Delete(Path.Combine(Directory, "log", "statements.json"));
        File.Delete(Path.Combine(Directory, "log", "statements", "3"));

        (await VerifyAsync()).Failed("statement 4 is listed where statement 3 belongs");
    }

    [Theory]
    [InlineData("--quorum", "1")]
    [InlineData("--nonsense", "1")]
    [InlineData("--key", "not a key")]
    public async Task Bad_usage_exits_2_with_the_usage_text(string option, string value)
    {
        _log.WriteTo(Directory);

        var run = await VerifyAsync(option, value);

        Assert.Equal(2, run.Exit);
        Assert.Contains("usage: meteragent verify --log", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_witness_key_given_as_the_log_key_is_bad_usage()
    {
        var witness = Attestation.Witnesses.CosignatureV1.GenerateKey("witness.test/w1");

        var run = await VerifyRun.RunAsync("--log", _folder.Path, "--key", witness.VerifierKey);

        Assert.Equal(2, run.Exit);
        Assert.Contains("--key: The verifier key's signature type is 0x04", run.Stderr, StringComparison.Ordinal);
    }
}
