using System.Text;
using MeterAgent.Metering.Requests;
using MeterAgent.Metering.Surfaces;

namespace MeterAgent.Metering.Tests.Requests;

/// <summary>Model names read from requests and responses: the name as sent, one string for a name seen again.</summary>
public sealed class ModelNamesTests
{
    [Theory]
    [InlineData("gpt-4o-mini")]
    [InlineData("claude-sonnet-4-20250514")]
    [InlineData("modèle-été")]
    [InlineData("x")]
    public void A_name_reads_as_its_text_and_a_repeated_ascii_name_is_the_same_string(string name)
    {
        var bytes = Encoding.UTF8.GetBytes(name);
        var first = ModelNames.Get(bytes);
        var again = ModelNames.Get(bytes);
        Assert.Equal(name, first);
        Assert.Equal(name, again);
        if (Ascii.IsValid(name))
        {
            Assert.Same(first, again);
        }
    }

    [Fact]
    public void Any_number_of_names_each_read_as_itself_however_they_collide_across_threads()
    {
        // Far more names than slots, from eight threads at once: slots are replaced all the time, and a name must never
        // come back as another that shared its slot.
        var wrong = 0;
        Parallel.For(0, 8, thread =>
        {
            for (var i = 0; i < 20_000; i++)
            {
                var name = $"model-{(i * 7 + thread) % (ModelNames.Slots * 8)}";
                if (ModelNames.Get(Encoding.UTF8.GetBytes(name)) != name)
                {
                    Interlocked.Increment(ref wrong);
                }
            }
        });

        Assert.Equal(0, wrong);
    }

    [Fact]
    public void A_name_longer_than_the_cache_takes_reads_in_full()
    {
        var name = new string('m', ModelNames.MaxCachedBytes + 1);
        Assert.Equal(name, ModelNames.Get(Encoding.UTF8.GetBytes(name)));
    }

    [Theory]
    [InlineData("""{"model":"gpt-4o-mini","messages":[]}""", "gpt-4o-mini")]
    [InlineData("""{"model":"gpt\u002d4o\/mini","messages":[]}""", "gpt-4o/mini")]
    [InlineData("""{"model":"mod\u00e8le","messages":[]}""", "modèle")]
    public void A_requests_model_reads_unescaped(string body, string model)
    {
        var parsed = RequestParser.Parse(ApiSurface.OpenAIChatCompletions, Encoding.UTF8.GetBytes(body));
        Assert.Equal(model, parsed.Request!.Model);
    }

    [Theory]
    [InlineData("""{"model":"gpt-4o-mini-2024-07-18","choices":[]}""", "gpt-4o-mini-2024-07-18")]
    [InlineData("""{"model":"gpt\u002d4o","choices":[]}""", "gpt-4o")]
    public void A_responses_served_model_reads_unescaped(string body, string model)
    {
        var (_, result) = Responses.Tap.Whole(ApiSurface.OpenAIChatCompletions, Responses.Tap.Json, body);
        Assert.Equal(model, result.ServedModel);
    }
}
