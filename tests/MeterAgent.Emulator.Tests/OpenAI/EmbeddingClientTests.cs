using System.ClientModel;
using OpenAI;
using OpenAI.Embeddings;

namespace MeterAgent.Emulator.Tests.OpenAI;

public sealed class EmbeddingClientTests
{
    private static EmbeddingClient Client(RunningEmulator server) =>
        new("emulator-embedding", new ApiKeyCredential("k"), new OpenAIClientOptions { Endpoint = server.OpenAIEndpoint });

    [Fact]
    public async Task Sdk_gets_deterministic_unit_vectors_of_dimension_8()
    {
        await using var server = await RunningEmulator.StartAsync();
        var client = Client(server);

        OpenAIEmbedding first = await client.GenerateEmbeddingAsync("hello world");
        OpenAIEmbedding again = await client.GenerateEmbeddingAsync("hello world");
        OpenAIEmbedding other = await client.GenerateEmbeddingAsync("something else");

        var vector = first.ToFloats().ToArray();
        Assert.Equal(8, vector.Length);
        Assert.Equal(1.0, Math.Sqrt(vector.Sum(v => (double)v * v)), 5);
        Assert.Equal(vector, again.ToFloats().ToArray());
        Assert.NotEqual(vector, other.ToFloats().ToArray());
    }

    [Fact]
    public async Task Batches_honor_dimensions_and_report_prompt_usage()
    {
        await using var server = await RunningEmulator.StartAsync();

        OpenAIEmbeddingCollection result = await Client(server).GenerateEmbeddingsAsync(
            ["hello world", "caf\u00e9"],
            new EmbeddingGenerationOptions { Dimensions = 16 });

        Assert.Equal(2, result.Count);
        Assert.All(result, e => Assert.Equal(16, e.ToFloats().Length));
        Assert.Equal([0, 1], result.Select(e => e.Index));
        Assert.Equal(4 + 1, result.Usage.InputTokenCount); // "hello world" 4, "café" 1; no message overhead
        Assert.Equal(5, result.Usage.TotalTokenCount);
    }

    [Fact]
    public async Task Float_and_base64_encodings_carry_the_same_vector()
    {
        await using var server = await RunningEmulator.StartAsync();

        using var floats = await server.PostAsync("/v1/embeddings", """{"model":"e","input":"abc","encoding_format":"float"}""");
        using var base64 = await server.PostAsync("/v1/embeddings", """{"model":"e","input":"abc","encoding_format":"base64"}""");

        var fromFloats = System.Text.Json.JsonDocument.Parse(await floats.Content.ReadAsStringAsync()).RootElement
            .GetProperty("data")[0].GetProperty("embedding").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        var bytes = Convert.FromBase64String(System.Text.Json.JsonDocument.Parse(await base64.Content.ReadAsStringAsync()).RootElement
            .GetProperty("data")[0].GetProperty("embedding").GetString()!);
        var fromBase64 = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes).ToArray();

        Assert.Equal(fromFloats, fromBase64);
    }
}
