using System.Text.Json.Serialization;

namespace MeterAgent.Emulator;

/// <summary>Source-generated JSON for the emulator's own (non-vendor) endpoints.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(EmulatorStats))]
internal sealed partial class EmulatorJsonContext : JsonSerializerContext;
