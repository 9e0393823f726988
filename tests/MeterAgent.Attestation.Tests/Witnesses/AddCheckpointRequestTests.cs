using System.Text;
using MeterAgent.Attestation.Witnesses;

namespace MeterAgent.Attestation.Tests.Witnesses;

public sealed class AddCheckpointRequestTests
{
    // The request body of c2sp.org/tlog-witness, as the spec shows it.
    private const string SpecExample =
        "old 20852014\n" +
        "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n" +
        "jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n" +
        "5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=\n" +
        "/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=\n" +
        "\n" +
        "example.com/behind-the-sofa\n" +
        "20852163\n" +
        "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n" +
        "\n" +
        "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n" +
        "— example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+49/V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=\n";

    [Fact]
    public void The_specs_example_reads_and_formats_back_byte_for_byte()
    {
        var body = Encoding.UTF8.GetBytes(SpecExample);

        var request = AddCheckpointRequest.Parse(body);

        Assert.Equal(20852014, request.OldSize);
        Assert.Equal(4, request.Proof.Count);
        Assert.Equal("PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=", Convert.ToBase64String(request.Proof[0]));
        Assert.StartsWith("example.com/behind-the-sofa\n20852163\n", Encoding.UTF8.GetString(request.Checkpoint.Span), StringComparison.Ordinal);
        Assert.Equal(body, request.Format());
    }

    [Fact]
    public void A_first_submission_has_old_0_and_no_proof()
    {
        var request = new AddCheckpointRequest(0, [], "note\n\n— k AAAA\n"u8.ToArray());

        Assert.Equal("old 0\n\nnote\n\n— k AAAA\n", Encoding.UTF8.GetString(request.Format()));
        Assert.Empty(AddCheckpointRequest.Parse(request.Format()).Proof);
    }

    [Theory]
    [InlineData("old 5\nnote\n", "no empty line")]
    [InlineData("old 05\n\nnote\n", "Line 1")]
    [InlineData("old -5\n\nnote\n", "Line 1")]
    [InlineData("old  5\n\nnote\n", "Line 1")]
    [InlineData("Old 5\n\nnote\n", "Line 1")]
    [InlineData("old 5\r\n\nnote\n", "printable ASCII")]
    [InlineData("old 5\nnot base64\n\nnote\n", "Line 2")]
    [InlineData("old 5\nAAAA\n\nnote\n", "Line 2")]
    [InlineData("\nold 5\n\nnote\n", "Line 1")]
    public void A_malformed_request_is_refused_naming_the_problem(string body, string expected)
    {
        var error = Assert.Throws<FormatException>(() => AddCheckpointRequest.Parse(Encoding.UTF8.GetBytes(body)));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void More_than_63_proof_lines_are_refused()
    {
        var line = Convert.ToBase64String(new byte[32]) + "\n";
        var body = "old 5\n" + string.Concat(Enumerable.Repeat(line, 64)) + "\nnote\n";

        Assert.Contains("at most 63", Assert.Throws<FormatException>(() => AddCheckpointRequest.Parse(Encoding.UTF8.GetBytes(body))).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0\n", 0L)]
    [InlineData("20852014\n", 20852014L)]
    public void A_409_body_is_a_size_and_a_newline(string body, long size)
    {
        Assert.True(TreeSizeText.TryParseBody(Encoding.ASCII.GetBytes(body), out var read));
        Assert.Equal(size, read);
        Assert.Equal(body, Encoding.ASCII.GetString(TreeSizeText.FormatBody(size)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("12")]
    [InlineData("012\n")]
    [InlineData("12 \n")]
    [InlineData("-1\n")]
    [InlineData("99999999999999999999\n")]
    public void Anything_else_is_not_a_409_body(string body)
    {
        Assert.False(TreeSizeText.TryParseBody(Encoding.ASCII.GetBytes(body), out _));
    }
}
