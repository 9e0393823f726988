using System.Globalization;
using System.Net;
using System.Net.Http.Headers;

namespace MeterAgent.Verify.Verifying;

/// <summary>The log's API on the agent's management port, read with the clearing house's bearer token.</summary>
internal sealed class HttpLogSource : ILogSource
{
    // The API's largest page of statements.
    private const int Page = 1000;

    private readonly HttpClient _http;

    public HttpLogSource(Uri baseUrl, string? token)
    {
        ArgumentNullException.ThrowIfNull(baseUrl);
        var root = baseUrl.AbsoluteUri.EndsWith('/') ? baseUrl : new Uri(baseUrl.AbsoluteUri + "/");
        _http = new HttpClient { BaseAddress = root, Timeout = TimeSpan.FromSeconds(60) };
        if (token is not null)
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
    }

    public async Task<byte[]?> GetAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _http.GetAsync(new Uri(path, UriKind.Relative), cancellationToken);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return null;
            }

            if (!response.IsSuccessStatusCode)
            {
                var hint = response.StatusCode == HttpStatusCode.Unauthorized ? " (is --token the log's read token?)" : string.Empty;
                throw new LogSourceException($"GET {path} answered HTTP {(int)response.StatusCode}{hint}");
            }

            return await response.Content.ReadAsByteArrayAsync(cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw new LogSourceException($"GET {path} failed: {ex.HttpRequestError}", ex);
        }
        catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new LogSourceException($"GET {path} timed out", ex);
        }
    }

    public async Task<IReadOnlyList<StatementListing>> ListStatementsAsync(CancellationToken cancellationToken)
    {
        var all = new List<StatementListing>();
        long since = 0;
        while (true)
        {
            var path = string.Create(CultureInfo.InvariantCulture, $"log/statements?since={since}&limit={Page}");
            var page = await GetAsync(path, cancellationToken);
            if (page is null && since == 0)
            {
                // An agent that publishes no statements yet: as good as an empty list, which it could serve anyway.
                return all;
            }

            if (page is null)
            {
                throw new LogSourceException($"GET {path} answered HTTP 404");
            }

            var (rows, next) = StatementListJson.Read(page, path);
            all.AddRange(rows);
            if (rows.Count == 0 || next is null)
            {
                return all;
            }

            if (next <= since)
            {
                throw new LogSourceException($"GET {path} answered next = {next}, which does not advance");
            }

            since = next.Value;
        }
    }

    public void Dispose() => _http.Dispose();
}
