namespace MeterAgent.Contracts.Specs;

/// <summary>Contract units per token of each class.</summary>
public sealed record TokenWeights(decimal Input, decimal CachedInput, decimal CacheWrite, decimal Output, decimal Reasoning);
