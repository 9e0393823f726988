using System.Text.Json;
using MeterAgent.Contracts.Units;
using MeterAgent.Ledger.Usage;
using MeterAgent.Proxy;

namespace MeterAgent.Tests.Proxy;

/// <summary>
/// The write-ahead record is built from the request's state directly, not from an open outcome: it must be the same
/// record that outcome would give, field for field, or recovery after a crash would close something else than was opened.
/// </summary>
public sealed class MeteringFeatureTests
{
    private static MeteringFeature Feature() => new("u-1", "acct-1", "key-1", "openai.chat_completions", new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero))
    {
        RouteId = "openai",
        ClusterId = "openai",
        ReferenceTokenizer = "o200k_base:sha256:00",
    };

    [Theory]
    [InlineData(0, false)]
    [InlineData(42, true)]
    public void The_open_record_is_the_open_outcome_s_record(long referenceInput, bool nonTextInput)
    {
        var feature = Feature();
        feature.Open("gpt-4o-mini", stream: true, nonTextInput, referenceInput);

        Assert.Equal(JsonSerializer.Serialize(feature.Current.ToRecord()), JsonSerializer.Serialize(feature.OpenRecord()));
        Assert.Equal(UsageStatus.Open, feature.OpenRecord().Status);
    }

    [Fact]
    public void Before_the_body_is_parsed_the_open_record_names_who_and_where_only()
    {
        var feature = Feature();

        var record = feature.OpenRecord();

        Assert.Equal(JsonSerializer.Serialize(feature.Current.ToRecord()), JsonSerializer.Serialize(record));
        Assert.Null(record.RequestedModel);
        Assert.False(record.Stream);
        Assert.Equal(0, record.ReferenceInputTokens);
    }

    [Fact]
    public void A_concluded_outcome_keeps_what_the_body_said_and_ends_with_its_status()
    {
        var feature = Feature();
        feature.Open("gpt-4o-mini", stream: true, nonTextInput: false, referenceInput: 42);
        var endedAt = feature.StartedAt.AddSeconds(1);

        var refused = feature.Conclude(UsageStatus.Rejected, 402, "insufficient_quota", endedAt);
        var served = feature.ConcludeForwarded(UsageStatus.Completed, 200, null, endedAt, new MeteredCounts(42, 9, 40, 0, 0, 9, 0), "gpt-4o-mini-2024", endedAt, "truncated");

        Assert.Equal(("gpt-4o-mini", true, 42L, UsageStatus.Rejected, false, endedAt), (refused.RequestedModel, refused.Stream, refused.Counts.ReferenceInput, refused.Status, refused.Forwarded, refused.EndedAt!.Value));
        Assert.Equal(("gpt-4o-mini", 9L, UsageStatus.Completed, true, "gpt-4o-mini-2024", "truncated"), (served.RequestedModel, served.Counts.ReferenceOutput, served.Status, served.Forwarded, served.ServedModel, served.Flags));
        Assert.Equal(("u-1", "acct-1", "key-1"), (served.UsageId, served.AccountId, served.KeyId));
    }

    [Fact]
    public void The_close_fills_the_open_record_to_what_a_new_record_would_be_once()
    {
        var feature = Feature();
        feature.Open("gpt-4o-mini", stream: false, nonTextInput: false, referenceInput: 42);
        var open = feature.OpenRecord();
        var endedAt = feature.StartedAt.AddSeconds(2);
        var outcome = feature.ConcludeForwarded(UsageStatus.Completed, 200, null, endedAt, new MeteredCounts(42, 9, 40, 0, 0, 9, 0), "gpt-4o-mini-2024", endedAt, string.Empty);

        var fresh = JsonSerializer.Serialize(outcome.ToRecord());
        var taken = feature.TakeOpenRecord();
        var closed = outcome.ToRecord(taken);

        Assert.Same(open, taken);
        Assert.Same(open, closed);
        Assert.Equal(fresh, JsonSerializer.Serialize(closed));
        Assert.Null(feature.TakeOpenRecord());
    }

    [Fact]
    public void Another_request_s_record_is_never_filled()
    {
        var feature = Feature();
        var other = new MeteringFeature("u-2", "acct-1", "key-1", "openai.chat_completions", feature.StartedAt);
        var foreign = other.OpenRecord();

        var outcome = feature.Conclude(UsageStatus.Rejected, 400, "invalid", feature.StartedAt);

        Assert.Throws<ArgumentException>(() => outcome.ToRecord(foreign));
        Assert.Equal("u-2", foreign.Id);
        Assert.Equal(UsageStatus.Open, foreign.Status);
    }

    [Fact]
    public void What_the_request_knew_before_forwarding_is_unchanged_by_the_close_filling_its_record()
    {
        var feature = Feature();
        feature.Open("gpt-4o-mini", stream: true, nonTextInput: false, referenceInput: 0);
        var open = feature.OpenRecord();
        var endedAt = feature.StartedAt.AddSeconds(2);
        var outcome = feature.ConcludeForwarded(UsageStatus.Completed, 200, null, endedAt, new MeteredCounts(42, 9, 40, 0, 0, 9, 0), "gpt-4o-mini-2024", endedAt, string.Empty);

        var closed = outcome.ToRecord(feature.TakeOpenRecord());

        Assert.Same(open, closed);
        Assert.Equal((42L, UsageStatus.Completed), (closed.ReferenceInputTokens, closed.Status));
        Assert.Equal((0L, "gpt-4o-mini", true), (feature.ReferenceInput, feature.RequestedModel, feature.Stream));
        Assert.Equal(("u-1", "acct-1", "openai", feature.StartedAt), (feature.UsageId, feature.AccountId, feature.RouteId, closed.StartedAt));
    }

    [Fact]
    public void A_record_never_opened_is_not_taken_to_close()
    {
        var feature = Feature();

        Assert.Null(feature.TakeOpenRecord());
    }
}
