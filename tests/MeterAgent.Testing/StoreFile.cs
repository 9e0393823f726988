using Microsoft.Data.Sqlite;

namespace MeterAgent.Testing;

/// <summary>One usage record as the SQLite file holds it.</summary>
/// <param name="Id">the usage id</param>
/// <param name="Status">the stored status ("open", "completed", ...)</param>
/// <param name="RequestedModel">the model the client asked for</param>
public sealed record StoredRecord(string Id, string Status, string? RequestedModel);

/// <summary>
/// Reads an agent's SQLite file directly, read-only, with no agent running: what a stop or a crash left on disk,
/// before any start-up recovery could change it.
/// </summary>
public static class StoreFile
{
    public static IReadOnlyList<StoredRecord> Records(string databasePath)
    {
        using var connection = Open(databasePath);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, status, requested_model FROM usage_records";
        using var reader = command.ExecuteReader();
        var records = new List<StoredRecord>();
        while (reader.Read())
        {
            records.Add(new StoredRecord(reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2)));
        }

        return records;
    }

    /// <summary>The usage log's rows in index order: index, usage id, and the contract its record was redeemed under.</summary>
    public static IReadOnlyList<(long Index, string UsageId, string? ContractId)> LogEntries(string databasePath)
    {
        using var connection = Open(databasePath);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT idx, usage_id, contract_id FROM log_entries ORDER BY idx";
        using var reader = command.ExecuteReader();
        var entries = new List<(long, string, string?)>();
        while (reader.Read())
        {
            entries.Add((reader.GetInt64(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2)));
        }

        return entries;
    }

    private static SqliteConnection Open(string databasePath)
    {
        var connectionString = new SqliteConnectionStringBuilder { DataSource = databasePath, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString();
        var connection = new SqliteConnection(connectionString);
        connection.Open();
        return connection;
    }
}
