namespace MeterAgent.Ledger.Sqlite;

internal enum UsageWriteKind
{
    Close,
    RecoverOpen,
}
