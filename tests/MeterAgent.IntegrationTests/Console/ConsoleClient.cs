using System.Net;
using AngleSharp.Html.Dom;
using AngleSharp.Html.Parser;

namespace MeterAgent.IntegrationTests.WebConsole;

/// <summary>
/// A browser without scripts for the console: keeps cookies, follows 303s with GET, parses each page, and submits a
/// page's forms with the antiforgery token the page carries (as a browser posts a form). Every body it saw is kept.
/// </summary>
internal sealed class ConsoleClient : IDisposable
{
    private static readonly HtmlParser Parser = new();
    private readonly HttpClient _http;

    public ConsoleClient(string baseUrl, CookieContainer? cookies = null)
    {
        Cookies = cookies ?? new CookieContainer();
        _http = new HttpClient(new HttpClientHandler { CookieContainer = Cookies, UseCookies = true, AllowAutoRedirect = false })
        {
            BaseAddress = new Uri(baseUrl),
            Timeout = TimeSpan.FromSeconds(30),
        };
    }

    public CookieContainer Cookies { get; }

    /// <summary>Every page and answer body this client received.</summary>
    public List<ConsolePage> Seen { get; } = [];

    public Task<ConsolePage> GetAsync(string path) => SendAsync(new HttpRequestMessage(HttpMethod.Get, path));

    /// <summary>Submits the page's form whose action is <paramref name="action"/>, its antiforgery token included.</summary>
    public Task<ConsolePage> SubmitAsync(ConsolePage page, string action, params (string Name, string Value)[] fields)
    {
        var form = page.Document.QuerySelectorAll("form").OfType<IHtmlFormElement>().FirstOrDefault(f => f.GetAttribute("action") == action)
            ?? throw new Xunit.Sdk.XunitException($"no form posting to {action} on {page.Url}:\n{page.Body}");
        var values = form.QuerySelectorAll("input[type=hidden]").OfType<IHtmlInputElement>().Select(input => (input.Name!, input.Value)).ToList();
        values.AddRange(fields);
        return PostAsync(action, [.. values]);
    }

    /// <summary>A form POST of exactly these fields (no token unless given).</summary>
    public Task<ConsolePage> PostAsync(string action, params (string Name, string Value)[] fields) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Post, action)
        {
            Content = new FormUrlEncodedContent(fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value))),
        });

    private async Task<ConsolePage> SendAsync(HttpRequestMessage first)
    {
        var request = first;
        for (var hops = 0; ; hops++)
        {
            ConsolePage page;
            Uri? next = null;
            using (var response = await _http.SendAsync(request))
            {
                var body = await response.Content.ReadAsStringAsync();
                page = new ConsolePage(response.RequestMessage!.RequestUri!, response.StatusCode, response.Headers, response.Content.Headers, body,
                    Parser.ParseDocument(body));
                if (response.StatusCode is HttpStatusCode.SeeOther or HttpStatusCode.Redirect && hops < 5)
                {
                    next = new Uri(response.RequestMessage.RequestUri!, response.Headers.Location!);
                }
            }

            request.Dispose();
            Seen.Add(page);
            if (next is null)
            {
                return page;
            }

            request = new HttpRequestMessage(HttpMethod.Get, next);
        }
    }

    public void Dispose() => _http.Dispose();
}

internal sealed record ConsolePage(
    Uri Url, HttpStatusCode Status, System.Net.Http.Headers.HttpResponseHeaders Headers,
    System.Net.Http.Headers.HttpContentHeaders ContentHeaders, string Body, IHtmlDocument Document)
{
    public string Header(string name) =>
        Headers.TryGetValues(name, out var values) ? string.Join(", ", values)
        : ContentHeaders.TryGetValues(name, out var content) ? string.Join(", ", content) : string.Empty;

    public string Text => Document.Body?.TextContent ?? string.Empty;
}
