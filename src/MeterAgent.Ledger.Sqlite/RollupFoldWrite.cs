namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// Folds up to <paramref name="batch"/> usage_records rows past the rollups' watermark into them (see
/// <see cref="UsageRollupSql"/>), on the shared writer between request writes. Returns how many rows it passed.
/// </summary>
internal sealed class RollupFoldWrite(int batch) : SqliteWriteOperation<long>
{
    /// <inheritdoc/>
    public override bool CanWait => true;

    private static readonly string FoldToParameter = UsageRollupSql.Fold("@up_to");

    public override string Description => $"usage rollup fold of up to {batch} rows";

    protected override long Run(SqliteWriteContext context)
    {
        var next = context.Command(UsageRollupSql.NextWatermark, "@batch");
        next.Parameters[0].Value = batch;
        long folded, upTo;
        using (var reader = next.ExecuteReader())
        {
            reader.Read();
            folded = reader.GetInt64(0);
            if (reader.IsDBNull(1))
            {
                return 0;
            }

            upTo = reader.GetInt64(1);
        }

        // The fold's table is the connection's own: made by the first fold (or again after a rolled-back one).
        context.Command(UsageRollupSql.FoldTable).ExecuteNonQuery();
        var fold = context.Command(FoldToParameter, "@up_to");
        fold.Parameters[0].Value = upTo;
        fold.ExecuteNonQuery();
        return upTo - folded;
    }
}
