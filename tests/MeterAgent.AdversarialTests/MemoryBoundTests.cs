using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;
using Xunit.Abstractions;

namespace MeterAgent.AdversarialTests;

/// <summary>
/// The agent as its own process, so its memory is its own: a 200 MB upstream response passes through it whole while
/// its resident set stays within <see cref="BoundBytes"/> of where it started (the tap keeps at most 16 MiB of a body).
/// </summary>
public sealed class MemoryBoundTests(ITestOutputHelper output)
{
    private const long BoundBytes = 160L * 1024 * 1024;

    [Fact]
    public async Task A_200_MB_response_is_forwarded_whole_with_bounded_memory_and_billed_for_what_was_delivered()
    {
        await using var upstream = await HostileUpstream.StartAsync();
        var chunk = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("strip ", 64 * 1024 / 6)));
        const int Chunks = 3200; // 3200 x ~64 KiB = 200 MB of text
        upstream.Respond = async context =>
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("""{"id":"c1","object":"chat.completion","model":"emu-chat","choices":[{"index":0,"message":{"role":"assistant","content":" """);
            for (var i = 0; i < Chunks; i++)
            {
                await context.Response.Body.WriteAsync(chunk, context.RequestAborted);
            }

            await context.Response.WriteAsync("\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":33000000,\"total_tokens\":33000009}}");
        };

        var directory = Directory.CreateTempSubdirectory("meteragent-memory-").FullName;
        try
        {
            await using var agent = await AgentProcess.StartAsync(
                Path.Combine(directory, "meteragent.db"), upstream.Url, FreePort.Next(), FreePort.Next());
            using var admin = agent.AdminClient();
            var account = await (await admin.PostAsync("admin/accounts", new StringContent("""{"name":"big"}""", Encoding.UTF8, "application/json"))).Content.ReadAsStringAsync();
            var accountId = System.Text.Json.JsonDocument.Parse(account).RootElement.GetProperty("id").GetString();
            var issued = await (await admin.PostAsync($"admin/accounts/{accountId}/keys", null)).Content.ReadAsStringAsync();
            var key = System.Text.Json.JsonDocument.Parse(issued).RootElement.GetProperty("key").GetString();

            var before = Resident(agent.ProcessId, "VmRSS");
            using var client = new HttpClient { BaseAddress = new Uri(agent.ProxyUrl), Timeout = TimeSpan.FromMinutes(3) };
            using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
            {
                Content = new StringContent("""{"model":"emu-chat","messages":[{"role":"user","content":"Everything."}]}""", Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            long received = 0;
            var buffer = new byte[81920];
            await using (var body = await response.Content.ReadAsStreamAsync())
            {
                int read;
                while ((read = await body.ReadAsync(buffer)) > 0)
                {
                    received += read;
                }
            }

            Assert.True(received > (long)Chunks * chunk.Length, $"the client got {received} bytes");
            var peak = Resident(agent.ProcessId, "VmHWM");
            output.WriteLine($"agent resident set: {before >> 20} MiB before, {peak >> 20} MiB at its peak; {received >> 20} MiB forwarded");
            Assert.True(peak - before < BoundBytes, $"agent resident set grew from {before >> 20} MiB to a peak of {peak >> 20} MiB");

            var usageId = response.Headers.GetValues("x-meteragent-usage-id").Single();
            var record = await Eventually.ThatAsync(
                async () => System.Text.Json.JsonDocument.Parse(await admin.GetStringAsync($"admin/usage/{usageId}")).RootElement,
                r => r.GetProperty("status").GetString() != "open",
                "the record closed");
            Assert.Equal("completed", record.GetProperty("status").GetString());
            Assert.Contains("truncated", record.GetProperty("flags").GetString(), StringComparison.Ordinal);

            // The text was not kept, but its bytes bound the count from below: at least one token per 4 bytes.
            Assert.True(record.GetProperty("reference_output_tokens").GetInt64() >= received / 4 - 100);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>A field of /proc/PID/status in bytes (VmRSS now, VmHWM the peak).</summary>
    private static long Resident(int pid, string field)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
            {
                var kb = line[(field.Length + 1)..].Trim().Split(' ')[0];
                return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidOperationException($"no {field} in /proc/{pid}/status");
    }
}
