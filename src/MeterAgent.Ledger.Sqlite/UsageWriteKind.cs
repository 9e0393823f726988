namespace MeterAgent.Ledger.Sqlite;

internal enum UsageWriteKind
{
    Open,
    Close,
    RecoverOpen,
}
