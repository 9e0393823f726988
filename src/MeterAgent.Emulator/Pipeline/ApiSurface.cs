using System.Text.Json;

namespace MeterAgent.Emulator.Pipeline;

/// <summary>
/// One emulated route: how its request is read, and how its answer is written, whole or as a stream.
/// The shared pipeline (auth, faults, pacing) lives in <see cref="EmulatorPipeline"/>.
/// </summary>
internal abstract class ApiSurface
{
    public abstract ApiFlavor Flavor { get; }

    /// <summary>Prefix of the deterministic response id (chatcmpl-, resp_, msg_, ...).</summary>
    public abstract string IdPrefix { get; }

    /// <summary>False for embeddings: no output text, no completion tokens.</summary>
    public virtual bool GeneratesText => true;

    /// <summary>Stream event name of a content delta, used for the injected malformed event; empty for data-only streams.</summary>
    public abstract ReadOnlySpan<byte> DeltaEventName { get; }

    /// <summary>Reads the surface's fields into <paramref name="request"/>; returns the 400 to send, if any.</summary>
    public abstract RequestError? Parse(JsonElement root, EmulatedRequest request);

    public abstract void WriteResponse(Utf8JsonWriter json, EmulatedRequest request);

    public virtual void WriteStreamStart(SseWriter sse, EmulatedRequest request) => throw new NotSupportedException();

    public virtual void WriteStreamDelta(SseWriter sse, EmulatedRequest request, ReadOnlySpan<char> text) => throw new NotSupportedException();

    public virtual void WriteStreamEnd(SseWriter sse, EmulatedRequest request) => throw new NotSupportedException();
}
