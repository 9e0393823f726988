using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MeterAgent.Attestation.Notes;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace MeterAgent.ConsoleTests;

/// <summary>
/// verify.js in Chromium against a real agent's proofs: a record of the signed log verifies in the browser (WebCrypto
/// SHA-256 and Ed25519) and names its leaf, tree size, key and statement; each way of tampering with the proof the
/// server sends is refused with its own reason; the page reports no console error and no CSP violation.
/// </summary>
[Collection(ChromiumCollection.Name)]
public sealed class VerifyJsTests(Chromium chromium, LoggedAgent log, ITestOutputHelper output) : IClassFixture<LoggedAgent>
{
    private const string ProofRoute = "**/console/api/proof/**";

    private async Task<(IBrowserContext Context, IPage Page, PageProbe Probe)> OpenRecordsAsync()
    {
        var (context, page, probe) = await chromium.NewPageAsync();
        var response = await page.GotoAsync(log.Harness.Url + "console/records");
        Assert.NotNull(response);
        Assert.Equal(200, response.Status);
        Assert.Equal(VerifyHarness.ContentSecurityPolicy, await response.HeaderValueAsync("content-security-policy"));
        return (context, page, probe);
    }

    /// <summary>Rewrites every proof the page fetches, as a lying or broken server would send it.</summary>
    private static Task TamperAsync(IPage page, Func<JsonObject, Task> change) =>
        page.RouteAsync(ProofRoute, async route =>
        {
            var response = await route.FetchAsync();
            var proof = JsonNode.Parse(await response.TextAsync())!.AsObject();
            await change(proof);
            await route.FulfillAsync(new() { Response = response, Body = proof.ToJsonString() });
        });

    private async Task<long> PublishedSizeAsync()
    {
        var note = await log.Clearing.GetStringAsync("log/checkpoint");
        return long.Parse(note.Split('\n')[1], System.Globalization.CultureInfo.InvariantCulture);
    }

    [SkippableFact]
    public async Task Each_record_verifies_in_the_browser_naming_its_leaf_tree_size_key_and_statement()
    {
        var (context, page, probe) = await OpenRecordsAsync();
        await using var _ = context;
        var vkey = NoteVerifier.Parse(log.Key.VerifierKey);

        foreach (var id in log.UsageIds)
        {
            var (state, reason, text) = await VerifyButton.ClickAsync(page, id);

            var proof = (await log.ProofAsync(id))!.Value;
            var leaf = proof.GetProperty("leaf_index").GetInt64();
            var size = proof.GetProperty("tree_size").GetInt64();
            var statement = proof.GetProperty("statements")[0].GetProperty("sequence").GetInt64();
            Assert.True(state == "verified", $"{id}: {reason}: {text}");
            Assert.Null(reason);
            Assert.Equal(await PublishedSizeAsync(), size);
            Assert.StartsWith($"Verified: record {id} is leaf {leaf} of {LoggedAgent.Origin} at tree size {size}, ", text, StringComparison.Ordinal);
            Assert.Contains($"signed by {LoggedAgent.Origin}+{NoteKeyId.Format(vkey.KeyId)}", text, StringComparison.Ordinal);
            Assert.Contains(". Its entry: model emu-chat, status ", text, StringComparison.Ordinal);
            Assert.Contains($"Counted by statement {statement} (contract {ClearingHouse.ContractId}", text, StringComparison.Ordinal);
        }

        await Screenshots.TakeAsync(page, "harness-records-verified", output);
        probe.AssertClean();
    }

    public static TheoryData<string, string, string> Tamperings => new()
    {
        { "flipped-hash", "root-mismatch", "does not lead to the checkpoint's root hash" },
        { "changed-entry", "root-mismatch", "does not lead to the checkpoint's root hash" },
        { "other-record", "wrong-record", "the proof is of record " },
        { "changed-root", "bad-signature", "does not verify: the checkpoint was altered or forged" },
        { "unknown-key", "unknown-key", "not signed by any of the log's published keys" },
        { "wrong-size", "tree-size-mismatch", "the signed checkpoint's size is " },
        { "dropped-hash", "root-mismatch", "the path is shorter than the tree is deep" },
        { "not-json", "malformed-json", "the proof is not JSON" },
        { "no-checkpoint", "malformed-json", "the proof's checkpoint is missing" },
    };

    [SkippableTheory]
    [MemberData(nameof(Tamperings))]
    public async Task A_tampered_proof_is_not_verified_and_says_why(string tampering, string expectedReason, string expectedText)
    {
        var (context, page, probe) = await OpenRecordsAsync();
        await using var _ = context;
        var id = log.UsageIds[0];
        var other = log.UsageIds[1];

        if (tampering == "not-json")
        {
            await page.RouteAsync(ProofRoute, route => route.FulfillAsync(new() { Status = 200, ContentType = "application/json", Body = "{\"usage_id\":" }));
        }
        else if (tampering == "other-record")
        {
            // The server answers this id with another record's genuine, valid proof.
            await page.RouteAsync(ProofRoute, async route =>
            {
                var response = await route.FetchAsync(new() { Url = log.Harness.Url + "console/api/proof/" + other });
                await route.FulfillAsync(new() { Response = response });
            });
        }
        else
        {
            await TamperAsync(page, proof => Change(tampering, proof));
        }

        var (state, reason, text) = await VerifyButton.ClickAsync(page, id);

        Assert.True(state == "failed", $"{tampering} was not refused: {text}");
        Assert.Equal(expectedReason, reason);
        Assert.StartsWith("Not verified: ", text, StringComparison.Ordinal);
        Assert.Contains(expectedText, text, StringComparison.Ordinal);
        probe.AssertClean();
    }

    private Task Change(string tampering, JsonObject proof)
    {
        switch (tampering)
        {
            case "flipped-hash":
                var hashes = proof["hashes"]!.AsArray();
                Assert.NotEmpty(hashes);
                hashes[hashes.Count - 1] = FlipByte(hashes[^1]!.GetValue<string>(), 7);
                break;
            case "dropped-hash":
                proof["hashes"]!.AsArray().RemoveAt(0);
                break;
            case "changed-entry":
                // The last byte is the non-text flag: flipped, the entry still decodes and keeps its usage id.
                var entry = Convert.FromBase64String(proof["entry"]!.GetValue<string>());
                entry[^1] ^= 1;
                proof["entry"] = Convert.ToBase64String(entry);
                break;
            case "changed-root":
                var lines = proof["checkpoint"]!.GetValue<string>().Split('\n');
                lines[2] = FlipByte(lines[2], 0);
                proof["checkpoint"] = string.Join('\n', lines);
                break;
            case "unknown-key":
                // The same checkpoint signed by another key of the same name: not a key the log published.
                var note = proof["checkpoint"]!.GetValue<string>();
                var body = note[..(note.LastIndexOf("\n\n", StringComparison.Ordinal) + 1)];
                var stranger = NoteKeyPair.Generate(LoggedAgent.Origin);
                proof["checkpoint"] = Encoding.UTF8.GetString(SignedNote.Sign(body, NoteSigner.Parse(stranger.SignerKey)).Encode());
                break;
            case "wrong-size":
                proof["tree_size"] = proof["tree_size"]!.GetValue<long>() + 1;
                break;
            case "no-checkpoint":
                proof.Remove("checkpoint");
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(tampering), tampering, null);
        }

        return Task.CompletedTask;
    }

    private static string FlipByte(string base64, int index)
    {
        var bytes = Convert.FromBase64String(base64);
        bytes[index] ^= 0x01;
        return Convert.ToBase64String(bytes);
    }

    [SkippableFact]
    public async Task A_network_failure_and_an_error_answer_are_reported_as_such()
    {
        var (context, page, probe) = await OpenRecordsAsync();
        await using var _ = context;

        await page.RouteAsync(ProofRoute, route => route.AbortAsync());
        var (state, reason, text) = await VerifyButton.ClickAsync(page, log.UsageIds[0]);
        Assert.Equal(("failed", "network"), (state, reason));
        Assert.Equal("Not verified: could not fetch the proof (network error)", text);

        await page.UnrouteAsync(ProofRoute);
        await page.RouteAsync(ProofRoute, route => route.FulfillAsync(new() { Status = 404, ContentType = "application/problem+json", Body = "{}" }));
        (state, reason, text) = await VerifyButton.ClickAsync(page, log.UsageIds[1]);
        Assert.Equal(("failed", "network"), (state, reason));
        Assert.Equal("Not verified: the proof answered HTTP 404", text);

        // The browser logs both failed loads; nothing else.
        Assert.All(probe.Problems, p => Assert.Contains("Failed to load resource", p, StringComparison.Ordinal));
    }

    [SkippableFact]
    public async Task Keys_the_log_did_not_publish_are_refused()
    {
        var (context, page, probe) = await OpenRecordsAsync();
        await using var _ = context;

        // The log keys answer with a stranger's key under the log's name: the genuine checkpoint is signed by no key it lists.
        var stranger = NoteKeyPair.Generate(LoggedAgent.Origin);
        var keys = JsonSerializer.Serialize(new
        {
            origin = LoggedAgent.Origin,
            current = stranger.VerifierKey,
            keys = new[] { new { vkey = stranger.VerifierKey, key_id = stranger.VerifierKey.Split('+')[1], current = true } },
        });
        await page.RouteAsync("**/.well-known/meteragent/log-keys", route => route.FulfillAsync(new() { Status = 200, ContentType = "application/json", Body = keys }));

        var (state, reason, text) = await VerifyButton.ClickAsync(page, log.UsageIds[0]);
        Assert.Equal(("failed", "unknown-key"), (state, reason));
        Assert.Contains("not signed by any of the log's published keys", text, StringComparison.Ordinal);

        // A listed key whose key ID does not match its name and key is refused as such.
        var lying = log.Key.VerifierKey.Split('+');
        lying[1] = "00000000";
        keys = JsonSerializer.Serialize(new { origin = LoggedAgent.Origin, current = string.Join('+', lying), keys = new[] { new { vkey = string.Join('+', lying) } } });
        await page.UnrouteAsync("**/.well-known/meteragent/log-keys");
        await page.RouteAsync("**/.well-known/meteragent/log-keys", route => route.FulfillAsync(new() { Status = 200, ContentType = "application/json", Body = keys }));
        (state, reason, text) = await VerifyButton.ClickAsync(page, log.UsageIds[0]);
        Assert.Equal(("failed", "bad-keys"), (state, reason));
        Assert.Contains("the key ID does not match its name and key", text, StringComparison.Ordinal);
        probe.AssertClean();
    }

    [SkippableFact]
    public async Task Without_a_secure_context_the_output_says_WebCrypto_is_missing()
    {
        var (context, page, probe) = await chromium.NewPageAsync();
        await using var _ = context;

        // Plain http on a host that is not this machine: the harness served under another name, which is not a secure context.
        await page.RouteAsync("http://console.insecure.test/**", async route =>
        {
            var path = new Uri(route.Request.Url).PathAndQuery.TrimStart('/');
            await route.FulfillAsync(new() { Response = await route.FetchAsync(new() { Url = log.Harness.Url + path }) });
        });
        await page.GotoAsync("http://console.insecure.test/console/records");
        Assert.False(await page.EvaluateAsync<bool>("() => window.isSecureContext"));

        var (state, reason, text) = await VerifyButton.ClickAsync(page, log.UsageIds[0]);
        Assert.Equal(("failed", "insecure-context"), (state, reason));
        Assert.Contains("not a secure context", text, StringComparison.Ordinal);
        probe.AssertClean();
    }

    [SkippableFact]
    public async Task The_agents_signed_statement_verifies_with_the_published_keys_and_not_once_altered()
    {
        var (context, page, probe) = await OpenRecordsAsync();
        await using var _ = context;
        var proof = (await log.ProofAsync(log.UsageIds[0]))!.Value;
        var sequence = proof.GetProperty("statements")[0].GetProperty("sequence").GetInt64();
        var envelope = await log.Clearing.GetStringAsync($"log/statements/{sequence}");
        var keys = await log.Agent.Http.GetStringAsync(".well-known/meteragent/log-keys");

        const string Check = """
            async ([envelope, keys, leaf]) => {
              const v = await import("/console/assets/verify.js");
              try {
                const checked = await v.verifyDsse(envelope, (await v.readLogKeys(JSON.parse(keys))).keys);
                return `ok ${checked.predicate.sequence} ${checked.signedBy.name} ${checked.predicate.leaves.includes(leaf)} ${checked.digest}`;
              } catch (error) {
                return `${error.code}: ${error.message}`;
              }
            }
            """;
        var leaf = proof.GetProperty("leaf_index").GetInt64();
        var digest = proof.GetProperty("statements")[0].GetProperty("digest").GetString();
        Assert.Equal($"ok {sequence} {LoggedAgent.Origin} true {digest}", await page.EvaluateAsync<string>(Check, new object[] { envelope, keys, leaf }));

        var altered = JsonNode.Parse(envelope)!.AsObject();
        var payload = Convert.FromBase64String(altered["payload"]!.GetValue<string>());
        var text = Encoding.UTF8.GetString(payload).Replace("\"sequence\":", "\"sequence\": ", StringComparison.Ordinal);
        altered["payload"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(text));
        Assert.StartsWith("bad-statement-signature: ", await page.EvaluateAsync<string>(Check, new object[] { altered.ToJsonString(), keys, leaf }), StringComparison.Ordinal);
        probe.AssertClean();
    }

    [SkippableFact]
    public async Task The_documented_worked_examples_come_out_the_same_in_the_browser()
    {
        var (context, page, probe) = await OpenRecordsAsync();
        await using var _ = context;

        // docs/attestation.md: the signed-note example (public seed 0x00..0x1f) and the three-entry Merkle tree.
        const string Check = """
            async () => {
              const v = await import("/console/assets/verify.js");
              const vkey = "meteragent.example/log+e52e06da+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4";
              const { keys } = await v.readLogKeys({ origin: "meteragent.example/log", keys: [{ vkey }] });
              const note = "meteragent.example/log\n1\nVKbcG/yZDO0/V1cmTzV61wip7lTOPRFymWQbI09tWAA=\n\n" +
                "\u2014 meteragent.example/log 5S4G2mhP/nGQeYdl3pJgL4SLI9/WA2SpogcyuKcfLFKXgBKwF6nByAIuO402SOAHRIZcgurTFrcvcv+bW1z7Hsqslwg=\n";
              const opened = await v.openSignedNote(note, keys);
              const checkpoint = v.parseCheckpoint(opened.text);
              const hello = v.toHex(await v.leafHash(new TextEncoder().encode("hello\n")));
              const leaf = (s) => v.leafHash(new TextEncoder().encode(s));
              const [l0, l1, l2] = [await leaf("alpha"), await leaf("beta"), await leaf("gamma")];
              const n01 = await v.nodeHash(l0, l1);
              const root = await v.nodeHash(n01, l2);
              const inclusion = [await v.verifyInclusion(2n, 3n, l2, [n01], root), await v.verifyInclusion(0n, 3n, l0, [l1, l2], root)];
              let forged;
              try { await v.openSignedNote(note.replace("\n1\n", "\n2\n"), keys); } catch (e) { forged = e.code; }
              return [checkpoint.origin, String(checkpoint.size), v.toHex(checkpoint.root) === hello, v.toHex(root), JSON.stringify(inclusion), forged].join(" ");
            }
            """;
        Assert.Equal(
            "meteragent.example/log 1 true 385da30f3917282c8939dff851957e519ab1846b1351a14c0adb3b11632742aa [null,null] bad-signature",
            await page.EvaluateAsync<string>(Check));
        probe.AssertClean();
    }
}
