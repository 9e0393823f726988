using System.Text;
using MeterAgent.Common;
using Microsoft.AspNetCore.Http;

namespace MeterAgent.Tests.Common;

/// <summary>The body read once, then replayed to the upstream as the request's own body stream.</summary>
public sealed class RequestBodyTests
{
    private static HttpRequest Request(byte[] body)
    {
        var context = new DefaultHttpContext();
        context.Request.Body = new MemoryStream(body);
        context.Request.ContentLength = body.Length;
        return context.Request;
    }

    [Fact]
    public async Task The_replayed_body_is_the_bytes_read_and_its_length_the_content_length()
    {
        var sent = Encoding.UTF8.GetBytes("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}""");
        var request = Request(sent);
        using var body = await RequestBody.ReadAsync(request, 1024, CancellationToken.None);
        Assert.True(body!.Span.SequenceEqual(sent));

        body.ReplayInto(request, null);
        Assert.Equal(sent.Length, request.ContentLength);
        Assert.Equal(sent, await ReadAllAsync(request.Body, 7));

        // Read again from the start, as a retrying sender would after seeking.
        request.Body.Position = 0;
        Assert.Equal(sent, await ReadAllAsync(request.Body, 1000));
    }

    [Fact]
    public async Task A_replacement_is_replayed_instead_with_its_own_length()
    {
        var request = Request(Encoding.UTF8.GetBytes("""{"model":"m","stream":true}"""));
        using var body = await RequestBody.ReadAsync(request, 1024, CancellationToken.None);
        var replacement = Encoding.UTF8.GetBytes("""{"model":"m","stream":true,"stream_options":{"include_usage":true}}""");

        body!.ReplayInto(request, replacement);
        Assert.Equal(replacement.Length, request.ContentLength);
        Assert.Equal(replacement, await ReadAllAsync(request.Body, 16));
    }

    [Fact]
    public async Task Once_disposed_its_pooled_bytes_are_never_read_again()
    {
        var request = Request(Encoding.UTF8.GetBytes("""{"model":"m"}"""));
        var body = await RequestBody.ReadAsync(request, 1024, CancellationToken.None);
        body!.ReplayInto(request, null);
        body.Dispose();

        Assert.False(request.Body.CanRead);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => request.Body.ReadAsync(new byte[16]).AsTask());
    }

    [Fact]
    public async Task A_body_over_the_limit_is_refused()
    {
        var request = Request(new byte[2048]);
        request.ContentLength = null;
        Assert.Null(await RequestBody.ReadAsync(request, 1024, CancellationToken.None));
    }

    private static async Task<byte[]> ReadAllAsync(Stream stream, int chunk)
    {
        var all = new MemoryStream();
        var buffer = new byte[chunk];
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            all.Write(buffer, 0, read);
        }

        return all.ToArray();
    }
}
