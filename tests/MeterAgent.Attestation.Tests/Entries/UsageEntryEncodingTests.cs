using MeterAgent.Attestation.Entries;

namespace MeterAgent.Attestation.Tests.Entries;

public sealed class UsageEntryEncodingTests
{
    private static readonly UsageEntry Small = new()
    {
        UsageId = "u1",
        AccountId = "a",
        Surface = "s",
        ServedModel = "m",
        StartedAtMicros = 1,
        EndedAtMicros = 258,
        Status = "completed",
        NativeOutputTokens = 5,
        ReferenceInputTokens = 3,
        ReferenceOutputTokens = 4,
        ContractVersion = 2,
        UnitsMicro = 11_000_000,
        RedeemedMicro = 11_000_000,
        Flags = "",
        NonTextInput = true,
    };

    [Fact]
    public void The_encoding_is_the_documented_byte_layout()
    {
        // Written out by hand from docs/attestation.md ("Entries"), field by field.
        var expected = string.Concat(
            "01",                                         // version 1
            "0002" + "7531",                              // usage id "u1"
            "0001" + "61",                                // account "a"
            "0001" + "73",                                // surface "s"
            "00",                                         // requested model: absent
            "01" + "0001" + "6d",                         // served model "m"
            "0000000000000001",                           // started at 1 µs
            "0000000000000102",                           // ended at 258 µs
            "0009" + "636f6d706c65746564",                // status "completed"
            "00", "00", "00",                             // native input, cached, cache write: absent
            "01" + "0000000000000005",                    // native output 5
            "00",                                         // native reasoning: absent
            "0000000000000003",                           // reference input 3
            "0000000000000004",                           // reference output 4
            "00",                                         // tokenizer: absent
            "00",                                         // contract: absent
            "01" + "00000002",                            // contract version 2
            "01" + "0000000000a7d8c0",                    // units 11,000,000 micro
            "0000000000a7d8c0",                           // redeemed 11,000,000 micro
            "0000000000000000",                           // overage 0
            "00",                                         // units basis: absent
            "0000",                                       // flags ""
            "01");                                        // non-text input: true

        Assert.Equal(expected, Convert.ToHexStringLower(UsageEntryEncoding.Encode(Small)));
    }

    [Fact]
    public void Decoding_gives_back_every_field()
    {
        var full = Small with
        {
            RequestedModel = "gpt-4o",
            ServedModel = "gpt-4o-2026-05-13 \u00e9\u4e2d\n",
            NativeInputTokens = long.MaxValue,
            NativeCachedInputTokens = 0,
            NativeCacheWriteTokens = 7,
            NativeReasoningTokens = 9,
            ReferenceTokenizer = "o200k_base:sha256:abc",
            ContractId = "gpt4o-2026q1",
            OverageMicro = 3,
            UnitsBasis = "native_floored",
            Flags = "native_not_final,truncated",
            NonTextInput = false,
        };

        Assert.Equal(full, UsageEntryEncoding.Decode(UsageEntryEncoding.Encode(full)));
        Assert.Equal(Small, UsageEntryEncoding.Decode(UsageEntryEncoding.Encode(Small)));
    }

    [Fact]
    public void Entries_appended_to_a_reused_buffer_are_the_same_bytes_as_each_alone()
    {
        // The store encodes every closed record's entry into one buffer per thread, reset between entries.
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(16);
        UsageEntryEncoding.Encode(Small with { ServedModel = new string('m', 300) }, buffer);
        buffer.ResetWrittenCount();
        UsageEntryEncoding.Encode(Small, buffer);

        Assert.Equal(UsageEntryEncoding.Encode(Small), buffer.WrittenSpan.ToArray());
        UsageEntryEncoding.Encode(Small, buffer);
        Assert.Equal([.. UsageEntryEncoding.Encode(Small), .. UsageEntryEncoding.Encode(Small)], buffer.WrittenSpan.ToArray());
    }

    [Fact]
    public void Bytes_handed_from_the_encoders_buffer_are_the_entrys_bytes_even_when_encoding_again_inside()
    {
        // The store binds the bytes straight from the encoder's buffer; an encode inside the call gets a buffer of its own.
        var seen = new List<byte[]>();
        UsageEntryEncoding.Encode(Small, seen, static (bytes, outer) =>
        {
            UsageEntryEncoding.Encode(Small with { ServedModel = "other" }, outer, static (inner, list) => list.Add(inner.ToArray()));
            outer.Add(bytes.ToArray());
        });

        Assert.Equal(UsageEntryEncoding.Encode(Small with { ServedModel = "other" }), seen[0]);
        Assert.Equal(UsageEntryEncoding.Encode(Small), seen[1]);
    }

    [Fact]
    public void Bytes_that_are_not_an_entry_are_refused_with_a_reason()
    {
        var bytes = UsageEntryEncoding.Encode(Small);

        Assert.Contains("version 2", Assert.Throws<FormatException>(() => UsageEntryEncoding.Decode([2, .. bytes[1..]])).Message, StringComparison.Ordinal);
        Assert.Contains("ends at offset", Assert.Throws<FormatException>(() => UsageEntryEncoding.Decode(bytes[..^2])).Message, StringComparison.Ordinal);
        Assert.Contains("after the entry's last field", Assert.Throws<FormatException>(() => UsageEntryEncoding.Decode([.. bytes, 0])).Message, StringComparison.Ordinal);
        Assert.Contains("not a boolean", Assert.Throws<FormatException>(() => UsageEntryEncoding.Decode([.. bytes[..^1], 7])).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_string_too_long_for_its_length_prefix_is_refused()
    {
        Assert.Throws<ArgumentException>(() => UsageEntryEncoding.Encode(Small with { ServedModel = new string('x', 65_536) }));
    }
}
