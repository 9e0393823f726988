using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MeterAgent.Attestation.Notes;
using Microsoft.Extensions.Options;

namespace MeterAgent.IntegrationTests;

/// <summary>
/// The log's keys across a rotation: the current key and the ones it signed with before (Attestation:PreviousKeys),
/// published for anyone on both ports, and a bad previous key refused at start-up by its index.
/// </summary>
public sealed class LogKeysTests
{
    [Fact]
    public async Task The_keys_list_the_current_key_first_then_the_previous_ones_on_both_ports()
    {
        using var folder = new TempFolder("meteragent-keys-");
        var current = NoteKeyPair.Generate(UsageLogClient.Origin);
        var older = NoteKeyPair.Generate(UsageLogClient.Origin);
        var oldest = NoteKeyPair.Generate(UsageLogClient.Origin);
        await using var agent = await TestAgent.StartAsync(settings: UsageLogClient.Settings(folder, current,
            ("Attestation:PreviousKeys:0", older.VerifierKey), ("Attestation:PreviousKeys:1", oldest.VerifierKey)));
        using var management = new HttpClient { BaseAddress = new Uri(agent.ManagementUrl) };

        var keys = await management.GetFromJsonAsync<JsonElement>("log/keys");

        Assert.Equal(UsageLogClient.Origin, keys.GetProperty("origin").GetString());
        Assert.Equal(current.VerifierKey, keys.GetProperty("current").GetString());
        var listed = keys.GetProperty("keys").EnumerateArray()
            .Select(k => (k.GetProperty("vkey").GetString(), k.GetProperty("key_id").GetString(), k.GetProperty("current").GetBoolean()))
            .ToList();
        Assert.Equal(
            [(current.VerifierKey, KeyId(current), true), (older.VerifierKey, KeyId(older), false), (oldest.VerifierKey, KeyId(oldest), false)],
            listed);

        // The same document at the well-known path, on the management port and on the client port.
        var body = await management.GetStringAsync("log/keys");
        Assert.Equal(body, await management.GetStringAsync(".well-known/meteragent/log-keys"));
        Assert.Equal(body, await agent.Http.GetStringAsync(".well-known/meteragent/log-keys"));

        // /log/* stays on the management port.
        using var onClientPort = await agent.Http.GetAsync("log/keys");
        Assert.Equal(HttpStatusCode.NotFound, onClientPort.StatusCode);
    }

    [Fact]
    public async Task Without_a_signing_key_nothing_of_the_log_is_published()
    {
        await using var agent = await TestAgent.StartAsync();
        using var management = new HttpClient { BaseAddress = new Uri(agent.ManagementUrl) };

        foreach (var path in new[] { "log/keys", "log/key", "log/checkpoint", "log/tile/0/000.p/1", ".well-known/meteragent/log-keys" })
        {
            using var response = await management.GetAsync(path);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{path}: {response.StatusCode}");
        }
    }

    public static TheoryData<int, string, string> BadPreviousKeys()
    {
        var other = NoteKeyPair.Generate("another.example/log");
        var same = NoteKeyPair.Generate(UsageLogClient.Origin);
        return new()
        {
            { 1, "not a key", "is not a signed-note verifier key" },
            { 1, other.VerifierKey, "is named \"another.example/log\"" },
            { 1, same.SignerKey, "is a signer (secret) key" },
            { 1, Corrupted(NoteKeyPair.Generate(UsageLogClient.Origin).VerifierKey), "is not a signed-note verifier key" },
        };
    }

    /// <summary>The key with its last two characters changed (never to what they were), so its key hash no longer matches.</summary>
    private static string Corrupted(string key) => key[..^2] + (key.EndsWith("AA", StringComparison.Ordinal) ? "BB" : "AA");

    [Theory]
    [MemberData(nameof(BadPreviousKeys))]
    public async Task A_bad_previous_key_stops_start_up_naming_its_index_and_never_echoing_it(int index, string key, string reason)
    {
        using var folder = new TempFolder("meteragent-keys-");
        var current = NoteKeyPair.Generate(UsageLogClient.Origin);
        var good = NoteKeyPair.Generate(UsageLogClient.Origin);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => TestAgent.StartAsync(settings: UsageLogClient.Settings(folder, current,
            ("Attestation:PreviousKeys:0", good.VerifierKey), ($"Attestation:PreviousKeys:{index}", key))));

        Assert.Contains($"Attestation:PreviousKeys:{index} ", error.Message, StringComparison.Ordinal);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(KeyMaterial(key), error.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// The base64 key a signed-note key carries after its name and key ID (and a signer key's <c>PRIVATE+KEY+</c>), or the
    /// whole text when it is not shaped like one. Base64 may itself hold '+', so this is not the text after the last '+'.
    /// </summary>
    private static string KeyMaterial(string key)
    {
        var rest = key.StartsWith("PRIVATE+KEY+", StringComparison.Ordinal) ? key["PRIVATE+KEY+".Length..] : key;
        var parts = rest.Split('+', 3);
        return parts.Length == 3 ? parts[2] : key;
    }

    [Fact]
    public async Task The_current_key_listed_again_as_a_previous_one_stops_start_up()
    {
        using var folder = new TempFolder("meteragent-keys-");
        var current = NoteKeyPair.Generate(UsageLogClient.Origin);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => TestAgent.StartAsync(settings: UsageLogClient.Settings(folder, current,
            ("Attestation:PreviousKeys:0", current.VerifierKey))));

        Assert.Contains("Attestation:PreviousKeys:0 is listed twice, or is the current key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_openssl_pem_key_signs_the_log_under_the_configured_origin_and_without_one_stops_start_up()
    {
        using var folder = new TempFolder("meteragent-keys-");
        var pem = folder.File("log.pem");
        try
        {
            using var openssl = System.Diagnostics.Process.Start("openssl", $"genpkey -algorithm ed25519 -out {pem}");
            await openssl.WaitForExitAsync();
        }
        catch (System.ComponentModel.Win32Exception)
        {
            Prerequisite.Require(false, "openssl is not on PATH (apt-get install openssl): the PEM key test needs it.");
        }

        var settings = new Dictionary<string, string?>
        {
            ["Attestation:SigningKeyPath"] = pem,
            ["Attestation:ReadToken"] = "clearing-house-read-token-for-tests",
        };
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => TestAgent.StartAsync(settings: settings));
        Assert.Contains("Attestation:Origin", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("BEGIN", error.Message, StringComparison.Ordinal);

        settings["Attestation:Origin"] = "provider.test/log";
        await using var agent = await TestAgent.StartAsync(settings: settings);
        using var management = new HttpClient { BaseAddress = new Uri(agent.ManagementUrl) };
        var keys = await management.GetFromJsonAsync<JsonElement>("log/keys");
        Assert.Equal("provider.test/log", keys.GetProperty("origin").GetString());
        var verifier = NoteVerifier.Parse(keys.GetProperty("current").GetString()!);

        management.DefaultRequestHeaders.Authorization = new("Bearer", "clearing-house-read-token-for-tests");
        var note = SignedNote.Open(await management.GetByteArrayAsync("log/checkpoint"), new NoteVerifiers(verifier));
        Assert.StartsWith("provider.test/log\n", note.Text, StringComparison.Ordinal);
    }

    private static string KeyId(NoteKeyPair key) => NoteKeyId.Format(NoteVerifier.Parse(key.VerifierKey).KeyId);
}
