using System.Diagnostics;
using MeterAgent.Attestation.Notes;

namespace MeterAgent.Attestation.Tests.Notes;

/// <summary>A log key from a secret store or `openssl genpkey -algorithm ed25519`: PKCS#8 PEM, checked against openssl.</summary>
public sealed class Ed25519PemTests
{
    private static string OpenSsl(string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo("openssl", arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"openssl {arguments}: {process.StandardError.ReadToEnd()}");
        return output;
    }

    private static bool HasOpenSsl()
    {
        try
        {
            OpenSsl("version");
            return true;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    [Fact]
    public void An_openssl_ed25519_key_signs_as_the_public_key_openssl_derives()
    {
        Prerequisite.Require(HasOpenSsl(), "openssl is not on PATH (apt-get install openssl): the PEM check needs it.");
        using var folder = new TempFolder("meteragent-pem-");
        var pemPath = folder.File("log.pem");
        OpenSsl($"genpkey -algorithm ed25519 -out {pemPath}");
        var publicPem = OpenSsl($"pkey -in {pemPath} -pubout");

        var signer = Ed25519Pem.ToSigner("meteragent.test/log", File.ReadAllText(pemPath));

        // SubjectPublicKeyInfo for Ed25519 is a fixed 12-byte prefix, then the 32-byte key.
        var spki = Convert.FromBase64String(string.Concat(publicPem.Split('\n').Where(l => l.Length > 0 && !l.StartsWith("-----", StringComparison.Ordinal))));
        var vkeyBytes = Convert.FromBase64String(string.Join('+', signer.Verifier.VerifierKey.Split('+')[2..]));  // base64 may hold '+'
        Assert.Equal(spki[^32..], vkeyBytes[1..]);
        Assert.Equal("meteragent.test/log", signer.Name);
        Assert.True(Ed25519Pem.IsPem(File.ReadAllText(pemPath)));

        var note = SignedNote.Sign("meteragent.test/log\n1\nVKbcG/yZDO0/V1cmTzV61wip7lTOPRFymWQbI09tWAA=\n", signer).Encode();
        Assert.Equal("meteragent.test/log\n1\nVKbcG/yZDO0/V1cmTzV61wip7lTOPRFymWQbI09tWAA=\n",
            SignedNote.Open(note, new NoteVerifiers(signer.Verifier)).Text);
    }

    [Fact]
    public void Other_pem_blocks_are_refused_with_what_was_expected()
    {
        Assert.Throws<FormatException>(() => Ed25519Pem.ToSigner("n", "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n"));
        Assert.Throws<FormatException>(() => Ed25519Pem.ToSigner("n", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"));
        Assert.False(Ed25519Pem.IsPem("PRIVATE+KEY+n+01234567+AAAA"));
    }
}
