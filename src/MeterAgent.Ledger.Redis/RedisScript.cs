namespace MeterAgent.Ledger.Redis;

/// <summary>One Lua script: its name (for errors and docs) and its source, loaded once per primary and called by SHA.</summary>
public sealed class RedisScript(string name, string source)
{
    public string Name { get; } = name;

    public string Source { get; } = source;

    public override string ToString() => Name;
}
