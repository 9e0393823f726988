using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;

namespace MeterAgent.Emulator.Pipeline;

/// <summary>
/// Writes server-sent events straight into the response pipe: JSON is serialized into the pipe's own
/// buffers, and each event is flushed on its own so clients see it as it is produced.
/// </summary>
internal sealed class SseWriter(PipeWriter pipe) : IDisposable
{
    private readonly Utf8JsonWriter _json = new(pipe, new JsonWriterOptions { SkipValidation = true });

    /// <summary>The writer of the event in progress.</summary>
    public Utf8JsonWriter Json => _json;

    /// <summary>Starts an event; <paramref name="eventName"/> empty for data-only events (OpenAI chat).</summary>
    public Utf8JsonWriter Begin(ReadOnlySpan<byte> eventName)
    {
        if (!eventName.IsEmpty)
        {
            pipe.Write("event: "u8);
            pipe.Write(eventName);
            pipe.Write("\n"u8);
        }

        pipe.Write("data: "u8);
        _json.Reset(pipe);
        return _json;
    }

    public void End()
    {
        _json.Flush();
        pipe.Write("\n\n"u8);
    }

    public void WriteRaw(ReadOnlySpan<byte> bytes) => pipe.Write(bytes);

    /// <summary>An event whose data is cut off mid-object: what a buggy or truncating upstream sends.</summary>
    public void WriteMalformedEvent(ReadOnlySpan<byte> eventName)
    {
        if (!eventName.IsEmpty)
        {
            pipe.Write("event: "u8);
            pipe.Write(eventName);
            pipe.Write("\n"u8);
        }

        pipe.Write("data: {\"type\":\"malformed\",\"text\":\"trunc\n\n"u8);
    }

    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        var result = await pipe.FlushAsync(cancellationToken);
        if (result.IsCanceled || result.IsCompleted)
        {
            throw new OperationCanceledException(cancellationToken);
        }
    }

    public void Dispose() => _json.Dispose();
}
