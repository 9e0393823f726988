using MeterAgent.Ledger.Sqlite;

namespace MeterAgent.Ledger.Tests.Sqlite;

/// <summary>
/// The writer's raw statements bind text by position on prepared statements: what is stored must be exactly what a
/// Microsoft.Data.Sqlite command would have stored: UTF-8 text, the empty string as text and null as NULL.
/// </summary>
public sealed class RawStatementTests
{
    [Theory]
    [InlineData("")]
    [InlineData("gpt-4o-mini")]
    [InlineData("café 数据 𝔸 \u0000 end")]
    public async Task Text_is_stored_as_the_same_utf8_text(string value)
    {
        using var dir = new TempFolder();
        await using var store = TestStore.Open(dir.DbPath);
        using var connection = store.Database.OpenConnection();
        InsertOne(connection, value);

        using var read = connection.CreateCommand();
        read.CommandText = "SELECT typeof(v), v, hex(v) FROM t;";
        using var reader = read.ExecuteReader();
        Assert.True(reader.Read());
        Assert.Equal("text", reader.GetString(0));
        Assert.Equal(value, reader.GetString(1));
        Assert.Equal(Convert.ToHexString(System.Text.Encoding.UTF8.GetBytes(value)), reader.GetString(2));
    }

    [Fact]
    public async Task Null_is_stored_as_null()
    {
        using var dir = new TempFolder();
        await using var store = TestStore.Open(dir.DbPath);
        using var connection = store.Database.OpenConnection();
        InsertOne(connection, null);

        using var read = connection.CreateCommand();
        read.CommandText = "SELECT typeof(v) FROM t;";
        Assert.Equal("null", read.ExecuteScalar());
    }

    /// <summary>A one-column table and one row, its text bound through the writer's raw statement.</summary>
    private static void InsertOne(Microsoft.Data.Sqlite.SqliteConnection connection, string? value)
    {
        using (var create = connection.CreateCommand())
        {
            create.CommandText = "CREATE TABLE t (v TEXT);";
            create.ExecuteNonQuery();
        }

        using var insert = new RawStatement(connection, "INSERT INTO t (v) VALUES (@v);");
        insert.Bind("@v", value);
        Assert.Equal(1, insert.Execute());
    }
}
