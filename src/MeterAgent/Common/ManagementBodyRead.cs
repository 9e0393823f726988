namespace MeterAgent.Common;

internal enum ManagementBodyStatus
{
    Read,
    TooLarge,
    Unreadable,
}

/// <summary>A management request body read under its cap; <see cref="Bytes"/> only when <see cref="Status"/> is Read.</summary>
internal readonly record struct ManagementBodyRead(byte[] Bytes, ManagementBodyStatus Status)
{
    public static ManagementBodyRead TooLarge { get; } = new([], ManagementBodyStatus.TooLarge);

    public static ManagementBodyRead Unreadable { get; } = new([], ManagementBodyStatus.Unreadable);
}
