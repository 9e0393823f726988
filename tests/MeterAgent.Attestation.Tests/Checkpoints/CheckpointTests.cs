using MeterAgent.Attestation.Checkpoints;
using MeterAgent.Attestation.Notes;

namespace MeterAgent.Attestation.Tests.Checkpoints;

public sealed class CheckpointTests
{
    private const string Root = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=";

    [Fact]
    public void The_spec_example_parses()
    {
        // c2sp.org/tlog-checkpoint's example; its key is not published, so only its structure is checked.
        const string note =
            "example.com/behind-the-sofa\n" +
            "20852163\n" +
            "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n" +
            "\n" +
            "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n";

        var parsed = SignedNote.Parse(System.Text.Encoding.UTF8.GetBytes(note));
        var checkpoint = Checkpoint.Parse(parsed.Text);

        Assert.Equal("example.com/behind-the-sofa", checkpoint.Origin);
        Assert.Equal(20852163, checkpoint.TreeSize);
        Assert.Equal(Convert.FromBase64String(Root), checkpoint.RootHash.ToArray());
        Assert.Empty(checkpoint.Extensions);
        Assert.Equal(parsed.Text, checkpoint.Format());
        Assert.Equal(0x033de0aeu, Assert.Single(parsed.Signatures).KeyId);
    }

    [Theory]
    [InlineData("example.com/log\n0\n" + Root + "\n")]
    [InlineData("example.com/log\n1\n" + Root + "\n")]
    [InlineData("example.com/log\n9223372036854775807\n" + Root + "\n")]
    [InlineData("example.com/log\n10\n" + Root + "\nfirst extension\nsecond extension\n")]
    [InlineData("a origin with spaces and + signs\n10\n" + Root + "\n")]
    [InlineData("ünïcödé.example/日志\n10\n" + Root + "\n")]
    public void A_valid_body_round_trips_byte_for_byte(string body)
    {
        var checkpoint = Checkpoint.Parse(body);

        Assert.Equal(body, checkpoint.Format());
        Assert.Equal(checkpoint, Checkpoint.Parse(checkpoint.Format()));
    }

    [Fact]
    public void Extensions_are_kept_in_order()
    {
        var checkpoint = Checkpoint.Parse("example.com/log\n10\n" + Root + "\nfirst\nsecond\n");

        Assert.Equal(["first", "second"], checkpoint.Extensions);
    }

    [Theory]
    [InlineData("", "ends with a newline")]
    [InlineData("example.com/log\n10\n" + Root, "ends with a newline")]
    [InlineData("example.com/log\n10\n" + Root + "\n\n", "line 4 is empty")]
    [InlineData("example.com/log\n10\n", "at least three lines")]
    [InlineData("\n10\n" + Root + "\n", "line 1 is empty")]
    [InlineData("example.com/log\n010\n" + Root + "\n", "leading zeros")]
    [InlineData("example.com/log\n00\n" + Root + "\n", "leading zeros")]
    [InlineData("example.com/log\n+10\n" + Root + "\n", "line 2")]
    [InlineData("example.com/log\n-1\n" + Root + "\n", "line 2")]
    [InlineData("example.com/log\n 10\n" + Root + "\n", "line 2")]
    [InlineData("example.com/log\n10 \n" + Root + "\n", "line 2")]
    [InlineData("example.com/log\n1e3\n" + Root + "\n", "line 2")]
    [InlineData("example.com/log\n9223372036854775808\n" + Root + "\n", "line 2")]
    [InlineData("example.com/log\n\uff11\uff10\n" + Root + "\n", "line 2")]
    [InlineData("example.com/log\n10\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n", "line 3")]
    [InlineData("example.com/log\n10\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2=\n", "line 3")]
    [InlineData("example.com/log\n10\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jx\n", "line 3")]
    [InlineData("example.com/log\n10\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=AAAA\n", "line 3")]
    [InlineData("example.com/log\n10\nCsUYapGGPo4dkMgIAUqom/Xajj7h2f B2MPA3j2jxq2I=\n", "line 3")]
    [InlineData("example.com/log\n10\nCsUYapGGPo4dkMgIAUqom_Xajj7h2fB2MPA3j2jxq2I=\n", "line 3")]
    [InlineData("example.com/log\r\n10\n" + Root + "\n", "line 1 contains the control character U+000D")]
    [InlineData("example.com/log\n10\n" + Root + "\next\tension\n", "line 4 contains the control character")]
    public void A_malformed_body_is_refused_naming_the_problem(string body, string expected)
    {
        var error = Assert.Throws<FormatException>(() => Checkpoint.Parse(body));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Construction_refuses_what_parsing_would()
    {
        var root = new byte[32];

        Assert.Throws<ArgumentException>(() => new Checkpoint("", 1, root));
        Assert.Throws<ArgumentException>(() => new Checkpoint("a\nb", 1, root));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Checkpoint("log", -1, root));
        Assert.Throws<ArgumentException>(() => new Checkpoint("log", 1, new byte[31]));
        Assert.Throws<ArgumentException>(() => new Checkpoint("log", 1, root, [""]));
        Assert.Throws<ArgumentException>(() => new Checkpoint("log", 1, root, ["two\nlines"]));
    }

    [Fact]
    public void The_root_hash_is_copied_in_so_a_caller_cannot_change_a_checkpoint_afterwards()
    {
        var root = new byte[32];
        var checkpoint = new Checkpoint("log", 1, root);
        root[0] = 0xff;

        Assert.Equal(0, checkpoint.RootHash[0]);
    }
}
