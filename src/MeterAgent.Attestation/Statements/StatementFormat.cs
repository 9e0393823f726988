using System.Globalization;
using System.Text.Json;

namespace MeterAgent.Attestation.Statements;

/// <summary>
/// A <see cref="UsageStatement"/> as an in-toto Statement v1 (github.com/in-toto/attestation, spec v1): its subject is
/// the log tree the statement's entries are in (name <c>&lt;origin&gt;/tree/&lt;size&gt;</c>, digest sha256 = the
/// root hash), its predicate the statement itself. Wrapped in a DSSE envelope (<see cref="Dsse"/>) to be signed.
/// </summary>
public static class StatementFormat
{
    public const string StatementType = "https://in-toto.io/Statement/v1";

    public const string PredicateType = "https://meteragent.dev/attestation/usage-statement/v1";

    /// <summary>Compact JSON (no whitespace), members in the documented order; amounts are integers (micro-units, tokens).</summary>
    public static byte[] Write(UsageStatement statement)
    {
        ArgumentNullException.ThrowIfNull(statement);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("_type", StatementType);
            json.WriteStartArray("subject");
            json.WriteStartObject();
            json.WriteString("name", SubjectName(statement.LogOrigin, statement.TreeSize));
            json.WriteStartObject("digest");
            json.WriteString("sha256", Convert.ToHexStringLower(statement.RootHash));
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteString("predicateType", PredicateType);
            json.WriteStartObject("predicate");
            json.WriteNumber("sequence", statement.Sequence);
            json.WriteString("contract_id", statement.ContractId);
            json.WriteString("interval_start", Rfc3339(statement.IntervalStart));
            json.WriteString("interval_end", Rfc3339(statement.IntervalEnd));
            json.WriteString("log_origin", statement.LogOrigin);
            json.WriteNumber("tree_size", statement.TreeSize);
            json.WriteString("root_hash", Convert.ToBase64String(statement.RootHash));
            json.WriteStartArray("leaves");
            foreach (var leaf in statement.Leaves)
            {
                json.WriteNumberValue(leaf);
            }

            json.WriteEndArray();
            json.WriteStartArray("accounts");
            foreach (var account in statement.Accounts)
            {
                WriteAccount(json, account);
            }

            json.WriteEndArray();
            if (statement.PreviousDigest is { } previous)
            {
                json.WriteString("previous_sha256", Convert.ToHexStringLower(previous));
            }
            else
            {
                json.WriteNull("previous_sha256");
            }

            if (statement.Amends is { } amends)
            {
                json.WriteNumber("amends", amends);
            }
            else
            {
                json.WriteNull("amends");
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>Reads a statement back; throws <see cref="FormatException"/> naming what is missing or wrong.</summary>
    public static UsageStatement Read(ReadOnlySpan<byte> utf8Json)
    {
        try
        {
            using var document = JsonDocument.Parse(utf8Json.ToArray());
            var root = document.RootElement;
            if (Text(root, "_type") != StatementType)
            {
                throw new FormatException($"_type is not {StatementType}");
            }

            if (Text(root, "predicateType") != PredicateType)
            {
                throw new FormatException($"predicateType is not {PredicateType}");
            }

            var p = root.GetProperty("predicate");
            var statement = new UsageStatement
            {
                Sequence = p.GetProperty("sequence").GetInt64(),
                ContractId = Text(p, "contract_id"),
                IntervalStart = DateTimeOffset.Parse(Text(p, "interval_start"), CultureInfo.InvariantCulture),
                IntervalEnd = DateTimeOffset.Parse(Text(p, "interval_end"), CultureInfo.InvariantCulture),
                LogOrigin = Text(p, "log_origin"),
                TreeSize = p.GetProperty("tree_size").GetInt64(),
                RootHash = Convert.FromBase64String(Text(p, "root_hash")),
                Leaves = [.. p.GetProperty("leaves").EnumerateArray().Select(l => l.GetInt64())],
                Accounts = [.. p.GetProperty("accounts").EnumerateArray().Select(ReadAccount)],
                PreviousDigest = p.GetProperty("previous_sha256").ValueKind == JsonValueKind.Null ? null : Convert.FromHexString(Text(p, "previous_sha256")),
                Amends = p.GetProperty("amends").ValueKind == JsonValueKind.Null ? null : p.GetProperty("amends").GetInt64(),
            };

            var subject = root.GetProperty("subject")[0];
            if (Text(subject, "name") != SubjectName(statement.LogOrigin, statement.TreeSize)
                || !string.Equals(Text(subject.GetProperty("digest"), "sha256"), Convert.ToHexStringLower(statement.RootHash), StringComparison.Ordinal))
            {
                throw new FormatException("the subject does not name the predicate's tree and root");
            }

            return statement;
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or IndexOutOfRangeException)
        {
            throw new FormatException($"not a usage statement: {ex.Message}", ex);
        }
    }

    public static string SubjectName(string origin, long treeSize) =>
        string.Create(CultureInfo.InvariantCulture, $"{origin}/tree/{treeSize}");

    private static void WriteAccount(Utf8JsonWriter json, AccountTotals a)
    {
        json.WriteStartObject();
        json.WriteString("account_id", a.AccountId);
        json.WriteNumber("records", a.Records);
        json.WriteNumber("native_input_tokens", a.NativeInputTokens);
        json.WriteNumber("native_cached_input_tokens", a.NativeCachedInputTokens);
        json.WriteNumber("native_cache_write_tokens", a.NativeCacheWriteTokens);
        json.WriteNumber("native_output_tokens", a.NativeOutputTokens);
        json.WriteNumber("native_reasoning_tokens", a.NativeReasoningTokens);
        json.WriteNumber("reference_input_tokens", a.ReferenceInputTokens);
        json.WriteNumber("reference_output_tokens", a.ReferenceOutputTokens);
        json.WriteNumber("units_micro", a.UnitsMicro);
        json.WriteNumber("redeemed_micro", a.RedeemedMicro);
        json.WriteNumber("overage_micro", a.OverageMicro);
        json.WriteNumber("estimated_records", a.EstimatedRecords);
        json.WriteNumber("non_text_records", a.NonTextRecords);
        json.WriteEndObject();
    }

    private static AccountTotals ReadAccount(JsonElement a) => new()
    {
        AccountId = Text(a, "account_id"),
        Records = a.GetProperty("records").GetInt64(),
        NativeInputTokens = a.GetProperty("native_input_tokens").GetInt64(),
        NativeCachedInputTokens = a.GetProperty("native_cached_input_tokens").GetInt64(),
        NativeCacheWriteTokens = a.GetProperty("native_cache_write_tokens").GetInt64(),
        NativeOutputTokens = a.GetProperty("native_output_tokens").GetInt64(),
        NativeReasoningTokens = a.GetProperty("native_reasoning_tokens").GetInt64(),
        ReferenceInputTokens = a.GetProperty("reference_input_tokens").GetInt64(),
        ReferenceOutputTokens = a.GetProperty("reference_output_tokens").GetInt64(),
        UnitsMicro = a.GetProperty("units_micro").GetInt64(),
        RedeemedMicro = a.GetProperty("redeemed_micro").GetInt64(),
        OverageMicro = a.GetProperty("overage_micro").GetInt64(),
        EstimatedRecords = a.GetProperty("estimated_records").GetInt64(),
        NonTextRecords = a.GetProperty("non_text_records").GetInt64(),
    };

    private static string Text(JsonElement owner, string name) =>
        owner.GetProperty(name).GetString() ?? throw new FormatException($"{name} is null");

    private static string Rfc3339(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);
}
