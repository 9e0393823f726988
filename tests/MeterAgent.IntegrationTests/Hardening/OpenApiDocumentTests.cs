using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;
using MeterAgent.Attestation.Notes;

namespace MeterAgent.IntegrationTests.Hardening;

/// <summary>
/// The OpenAPI documents served on the management port are the ones checked in under docs/openapi/, they speak
/// snake_case, and the error responses they document are what the endpoints really answer.
/// </summary>
public sealed partial class OpenApiDocumentTests : IAsyncLifetime
{
    /// <summary>Set to 1 to rewrite docs/openapi/*.json from the served documents.</summary>
    public const string UpdateVariable = "METERAGENT_UPDATE_OPENAPI";

    private const string ReadToken = "clearing-house-read-token-for-openapi-tests";
    private readonly TempFolder _folder = new("meteragent-openapi-");
    private ClearingHouse _house = null!;
    private TestAgent _agent = null!;

    public async Task InitializeAsync()
    {
        _house = ClearingHouse.Create();
        var key = NoteKeyPair.Generate("meteragent.test/log");
        _agent = await TestAgent.StartAsync(settings: _house.AgentSettings(
            ("Attestation:SigningKeyPath", _folder.Write("log.skey", key.SignerKey)),
            ("Attestation:ReadToken", ReadToken)));
    }

    public async Task DisposeAsync()
    {
        await _agent.DisposeAsync();
        _house.Dispose();
        _folder.Dispose();
    }

    [Theory]
    [InlineData("admin")]
    [InlineData("clearing")]
    [InlineData("account")]
    public async Task The_served_document_is_the_checked_in_one(string name)
    {
        var served = Canonical(await DocumentAsync(name));
        var file = Path.Combine(RepoRoot.Path, "docs", "openapi", name + ".json");
        if (Environment.GetEnvironmentVariable(UpdateVariable) == "1")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            await File.WriteAllTextAsync(file, served);
            return;
        }

        var checkedIn = File.Exists(file) ? (await File.ReadAllTextAsync(file)).ReplaceLineEndings("\n") : "(missing)";
        Assert.True(checkedIn == served,
            $"docs/openapi/{name}.json differs from the document the agent serves at /openapi/{name}.json. If the API change is " +
            $"meant, regenerate with `{UpdateVariable}=1 dotnet test tests/MeterAgent.IntegrationTests -c Release --filter " +
            $"FullyQualifiedName~OpenApiDocumentTests` and commit docs/openapi/.\nFirst difference: {FirstDifference(checkedIn, served)}");
    }

    [Theory]
    [InlineData("admin", "/admin/accounts")]
    [InlineData("clearing", "/clearing/deliveries")]
    [InlineData("clearing", "/log/statements")]
    [InlineData("account", "/v1/meteragent/balance")]
    public async Task Each_document_holds_its_own_api_and_speaks_snake_case(string name, string path)
    {
        var document = await DocumentAsync(name);
        var paths = document.GetProperty("paths");
        Assert.True(paths.TryGetProperty(path, out _), $"{name} lacks {path}");
        foreach (var other in paths.EnumerateObject())
        {
            Assert.True(name switch
            {
                "admin" => other.Name.StartsWith("/admin/", StringComparison.Ordinal),
                "account" => other.Name.StartsWith("/v1/meteragent/", StringComparison.Ordinal),
                _ => !other.Name.StartsWith("/admin/", StringComparison.Ordinal) && !other.Name.StartsWith("/v1/", StringComparison.Ordinal),
            }, $"{other.Name} in the {name} document");
        }

        Assert.Empty(document.TryGetProperty("servers", out var servers) ? servers.EnumerateArray() : []);
        var schemas = document.GetProperty("components").GetProperty("schemas");
        foreach (var schema in schemas.EnumerateObject())
        {
            if (schema.Value.TryGetProperty("properties", out var properties))
            {
                foreach (var property in properties.EnumerateObject())
                {
                    Assert.Matches(SnakeCase(), property.Name);
                }
            }
        }
    }

    [Fact]
    public async Task Documented_error_responses_are_what_the_endpoints_answer()
    {
        var admin = await DocumentAsync("admin");
        var clearing = await DocumentAsync("clearing");
        var account = await DocumentAsync("account");

        // 400: a bad admin body.
        using (var response = await _agent.Admin.PostAsync("admin/accounts", new StringContent("{\"name\":42}", Encoding.UTF8, "application/json")))
        {
            await AssertDocumentedAsync(admin, "/admin/accounts", "post", response, HttpStatusCode.BadRequest);
        }

        // 401: no admin token.
        using (var anonymous = new HttpClient { BaseAddress = new Uri(_agent.ManagementUrl) })
        using (var response = await anonymous.GetAsync("admin/accounts"))
        {
            await AssertDocumentedAsync(admin, "/admin/accounts", "get", response, HttpStatusCode.Unauthorized);
        }

        // 404: an unknown account, on a core endpoint and a rate-limit one.
        using (var response = await _agent.Admin.GetAsync("admin/accounts/acct_unknown"))
        {
            await AssertDocumentedAsync(admin, "/admin/accounts/{accountId}", "get", response, HttpStatusCode.NotFound);
        }

        using (var response = await _agent.Admin.GetAsync("admin/accounts/acct_unknown/rate-limits"))
        {
            await AssertDocumentedAsync(admin, "/admin/accounts/{accountId}/rate-limits", "get", response, HttpStatusCode.NotFound);
        }

        // A success is described too.
        using (var response = await _agent.Admin.GetAsync($"admin/accounts/{_agent.AccountId}"))
        {
            await AssertDocumentedAsync(admin, "/admin/accounts/{accountId}", "get", response, HttpStatusCode.OK);
        }

        // The clearing API: a malformed and a forged delivery are problems with a code; the log wants its token.
        using (var response = await ClearingHouse.PostAsync(_agent.Admin, "a.b"))
        {
            await AssertDocumentedAsync(clearing, "/clearing/deliveries", "post", response, HttpStatusCode.BadRequest);
        }

        using (var response = await ClearingHouse.PostAsync(_agent.Admin, _house.Notice(_agent.AccountId, 5)))
        {
            await AssertDocumentedAsync(clearing, "/clearing/deliveries", "post", response, HttpStatusCode.Created);
        }

        using (var anonymous = new HttpClient { BaseAddress = new Uri(_agent.ManagementUrl) })
        using (var response = await anonymous.GetAsync("log/statements"))
        {
            await AssertDocumentedAsync(clearing, "/log/statements", "get", response, HttpStatusCode.Unauthorized);
        }

        // The account API answers in the OpenAI error shape.
        using (var request = new HttpRequestMessage(HttpMethod.Get, "v1/meteragent/balance"))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "sk-not-a-key");
            using var response = await _agent.Http.SendAsync(request);
            await AssertDocumentedAsync(account, "/v1/meteragent/balance", "get", response, HttpStatusCode.Unauthorized);
        }

        using (var request = new HttpRequestMessage(HttpMethod.Get, "v1/meteragent/usage?limit=0"))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _agent.ClientKey);
            using var response = await _agent.Http.SendAsync(request);
            await AssertDocumentedAsync(account, "/v1/meteragent/usage", "get", response, HttpStatusCode.BadRequest);
        }

        using (var request = new HttpRequestMessage(HttpMethod.Get, "v1/meteragent/balance"))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _agent.ClientKey);
            using var response = await _agent.Http.SendAsync(request);
            await AssertDocumentedAsync(account, "/v1/meteragent/balance", "get", response, HttpStatusCode.OK);
        }
    }

    private async Task<JsonElement> DocumentAsync(string name)
    {
        using var client = new HttpClient { BaseAddress = new Uri(_agent.ManagementUrl) };
        using var response = await client.GetAsync($"openapi/{name}.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    /// <summary>The response's status is documented for the operation, with its media type, and the body fits the schema.</summary>
    private static async Task AssertDocumentedAsync(JsonElement document, string path, string method, HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{method} {path}: expected {(int)expected}, got {(int)response.StatusCode} {body}");
        var operation = document.GetProperty("paths").GetProperty(path).GetProperty(method);
        Assert.True(operation.GetProperty("responses").TryGetProperty(((int)expected).ToString(System.Globalization.CultureInfo.InvariantCulture), out var documented),
            $"{method} {path} does not document {(int)expected}");
        var mediaType = response.Content.Headers.ContentType?.MediaType ?? "(none)";
        Assert.True(documented.GetProperty("content").TryGetProperty(mediaType, out var content),
            $"{method} {path} {(int)expected}: answered {mediaType}, documented {documented.GetProperty("content")}");
        var schema = content.GetProperty("schema");
        var problems = new List<string>();
        Fits(document, schema, JsonDocument.Parse(body).RootElement, "$", problems);
        Assert.True(problems.Count == 0, $"{method} {path} {(int)expected}: {string.Join("; ", problems)}\nbody: {body}");
    }

    /// <summary>Enough of JSON Schema for these documents: $ref, type (with null), properties, required, items, additionalProperties.</summary>
    private static void Fits(JsonElement document, JsonElement schema, JsonElement value, string at, List<string> problems)
    {
        if (schema.TryGetProperty("$ref", out var reference))
        {
            var name = reference.GetString()!.Split('/')[^1];
            schema = document.GetProperty("components").GetProperty("schemas").GetProperty(name);
        }

        if (schema.TryGetProperty("type", out var type))
        {
            var allowed = type.ValueKind == JsonValueKind.Array ? type.EnumerateArray().Select(t => t.GetString()!).ToArray() : [type.GetString()!];
            var actual = value.ValueKind switch
            {
                JsonValueKind.Object => "object",
                JsonValueKind.Array => "array",
                JsonValueKind.String => "string",
                JsonValueKind.Number => "number",
                JsonValueKind.True or JsonValueKind.False => "boolean",
                _ => "null",
            };
            var fits = allowed.Contains(actual) || (actual == "number" && allowed.Contains("integer"))
                || (actual == "string" && (allowed.Contains("number") || allowed.Contains("integer")) && schema.TryGetProperty("pattern", out _));
            if (!fits)
            {
                problems.Add($"{at} is {actual}, documented {string.Join('|', allowed)}");
                return;
            }
        }

        if (value.ValueKind == JsonValueKind.Object)
        {
            var properties = schema.TryGetProperty("properties", out var declared) ? declared : default;
            if (schema.TryGetProperty("required", out var required))
            {
                foreach (var name in required.EnumerateArray())
                {
                    if (!value.TryGetProperty(name.GetString()!, out _))
                    {
                        problems.Add($"{at}.{name.GetString()} is required but absent");
                    }
                }
            }

            // No additionalProperties keyword: JSON Schema would allow more, but these documents name every member answered.
            var open = schema.TryGetProperty("additionalProperties", out var additional) && additional.ValueKind != JsonValueKind.False;
            foreach (var member in value.EnumerateObject())
            {
                if (properties.ValueKind == JsonValueKind.Object && properties.TryGetProperty(member.Name, out var memberSchema))
                {
                    Fits(document, memberSchema, member.Value, $"{at}.{member.Name}", problems);
                }
                else if (properties.ValueKind == JsonValueKind.Object && !open)
                {
                    problems.Add($"{at}.{member.Name} is not documented");
                }
            }
        }
        else if (value.ValueKind == JsonValueKind.Array && schema.TryGetProperty("items", out var items))
        {
            var i = 0;
            foreach (var item in value.EnumerateArray())
            {
                Fits(document, items, item, $"{at}[{i++}]", problems);
            }
        }
    }

    private static string Canonical(JsonElement document) =>
        JsonSerializer.Serialize(document, new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping })
            .ReplaceLineEndings("\n") + "\n";

    private static string FirstDifference(string expected, string actual)
    {
        var expectedLines = expected.Split('\n');
        var actualLines = actual.Split('\n');
        for (var i = 0; i < Math.Max(expectedLines.Length, actualLines.Length); i++)
        {
            var e = i < expectedLines.Length ? expectedLines[i] : "(end)";
            var a = i < actualLines.Length ? actualLines[i] : "(end)";
            if (e != a)
            {
                return $"line {i + 1}: checked in `{e.Trim()}`, served `{a.Trim()}`";
            }
        }

        return "(none)";
    }

    [GeneratedRegex("^[a-z][a-z0-9_]*$")]
    private static partial Regex SnakeCase();
}
