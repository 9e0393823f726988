using System.Globalization;
using MeterAgent.Emulator.Text;

namespace MeterAgent.Emulator.Pipeline;

/// <summary>What a surface parsed from one request, and the deterministic answer computed from it.</summary>
internal sealed class EmulatedRequest
{
    /// <summary>
    /// Fixed "created" timestamp (2026-01-01T00:00:00Z): the same request must give the same bytes, so
    /// recorded fixtures and determinism tests hold; the wall clock would break that.
    /// </summary>
    public const long Created = 1767225600;

    public const string SystemFingerprint = "fp_emulator";

    public string Model { get; set; } = "";

    public bool Stream { get; set; }

    public bool IncludeUsage { get; set; }

    /// <summary>The request's output cap (max_tokens and its per-API names), if it set one.</summary>
    public int? MaxTokens { get; set; }

    /// <summary>Responses API "instructions", echoed back in the response object.</summary>
    public string? Instructions { get; set; }

    /// <summary>Embeddings: the input texts.</summary>
    public List<string> Inputs { get; } = [];

    public int? Dimensions { get; set; }

    public bool Base64 { get; set; }

    public PromptText Prompt { get; } = new();

    public FaultPlan Fault { get; set; }

    public UsageNumbers Usage { get; private set; }

    public GeneratedText Output { get; private set; } = null!;

    /// <summary>True when the request's cap cut the output short ("length" / "max_tokens").</summary>
    public bool StoppedByLimit { get; private set; }

    public string Id { get; private set; } = "";

    /// <summary>Responses API stream events are numbered.</summary>
    public int SequenceNumber { get; set; }

    public bool WriteUsage => !Fault.NoUsage;

    /// <summary>Fixes the answer: output length, usage and ids, all derived from the request alone.</summary>
    public void Complete(EmulatorOptions options, ApiSurface surface)
    {
        Prompt.AddSeedText(Model);
        var cap = options.DefaultOutputTokens;
        var outputTokens = !surface.GeneratesText ? 0 : MaxTokens is { } max ? Math.Min(max, cap) : cap;
        StoppedByLimit = surface.GeneratesText && MaxTokens is { } m && m < cap;
        var reasoning = Model.Contains("reasoning", StringComparison.OrdinalIgnoreCase);
        Usage = UsageNumbers.Compute(Prompt.Tokens, outputTokens, reasoning, surface.Flavor == ApiFlavor.Anthropic && Prompt.HasCacheControl);
        Output = TextGenerator.Generate(Prompt.Seed, Usage.VisibleTokens);
        Id = surface.IdPrefix + Prompt.Seed.ToString("x16", CultureInfo.InvariantCulture);
    }
}
