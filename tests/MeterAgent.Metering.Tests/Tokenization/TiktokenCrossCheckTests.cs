using System.Diagnostics;
using System.Text;
using System.Text.Json;
using MeterAgent.Metering.Tokenization;

namespace MeterAgent.Metering.Tests.Tokenization;

/// <summary>
/// Compares the reference tokenizer with an independent implementation (js-tiktoken, o200k_base, encode(text, [], []))
/// over a corpus chosen for the places tokenizers disagree: scripts, emoji sequences, long runs, white space, special-token text.
/// </summary>
public sealed class TiktokenCrossCheckTests
{
    private const string InstallHint = "run `npm ci --prefix tests/tiktoken-check`";

    [SkippableFact]
    public void Counts_equal_js_tiktoken_for_every_corpus_item()
    {
        var checkDirectory = Path.Combine(RepoRoot.Path, "tests", "tiktoken-check");
        Prerequisite.Require(
            Directory.Exists(Path.Combine(checkDirectory, "node_modules", "js-tiktoken")),
            $"js-tiktoken is not installed in {checkDirectory}: {InstallHint}.");

        var corpus = TokenizerCorpus.Items();
        var expected = RunNode(checkDirectory, corpus);
        Assert.Equal(corpus.Count, expected.Count);

        var tokenizer = ReferenceTokenizer.Instance;
        var mismatches = new StringBuilder();
        for (var i = 0; i < corpus.Count; i++)
        {
            var actual = tokenizer.CountTokens(corpus[i]);
            if (actual != expected[i])
            {
                mismatches.Append(System.Globalization.CultureInfo.InvariantCulture,
                    $"#{i} {JsonSerializer.Serialize(Preview(corpus[i]))}: ours {actual}, js-tiktoken {expected[i]}\n");
            }
        }

        Assert.True(mismatches.Length == 0, "Counts differ from js-tiktoken:\n" + mismatches);
    }

    private static string Preview(string text) => text.Length <= 80 ? text : text[..80] + $"... ({text.Length} chars)";

    private static List<int> RunNode(string workingDirectory, IReadOnlyList<string> corpus)
    {
        var start = new ProcessStartInfo("node", "count.js")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardInputEncoding = new UTF8Encoding(false),
            StandardOutputEncoding = Encoding.UTF8,
        };

        using var node = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        var stdout = node.StandardOutput.ReadToEndAsync();
        var stderr = node.StandardError.ReadToEndAsync();
        // Written on its own task: node consumes stdin only as fast as it counts, so a blocked write must not hide a timeout.
        var stdin = Task.Run(() =>
        {
            foreach (var text in corpus)
            {
                // JSON escaping keeps every item on one line and every character exact.
                node.StandardInput.Write(JsonSerializer.Serialize(text));
                node.StandardInput.Write('\n');
            }

            node.StandardInput.Close();
        });

        if (!node.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            node.Kill();
            Assert.Fail("node count.js did not finish in 2 minutes");
        }

        stdin.GetAwaiter().GetResult();
        Assert.True(node.ExitCode == 0, $"node count.js failed ({node.ExitCode}): {stderr.Result}");

        var counts = new List<int>();
        foreach (var line in stdout.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            counts.Add(int.Parse(line, System.Globalization.CultureInfo.InvariantCulture));
        }

        return counts;
    }
}
