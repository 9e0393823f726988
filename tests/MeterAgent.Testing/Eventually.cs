namespace MeterAgent.Testing;

/// <summary>
/// The one polling helper: reads until a condition holds, with one generous deadline for a loaded CI machine. A
/// condition that never holds fails with what was awaited and the last value read.
/// </summary>
public static class Eventually
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(20);

    public static Task<T> ThatAsync<T>(Func<Task<T>> read, Func<T, bool> done, string what) => ThatAsync(read, done, what, Deadline);

    /// <summary>With a deadline of its own, for what cannot happen sooner (a settlement interval that must end first).</summary>
    public static async Task<T> ThatAsync<T>(Func<Task<T>> read, Func<T, bool> done, string what, TimeSpan deadline)
    {
        ArgumentNullException.ThrowIfNull(read);
        ArgumentNullException.ThrowIfNull(done);
        var until = DateTime.UtcNow + deadline;
        while (true)
        {
            var value = await read();
            if (done(value))
            {
                return value;
            }

            if (DateTime.UtcNow > until)
            {
                throw new Xunit.Sdk.XunitException($"not within {deadline.TotalSeconds} s: {what} (last: {value})");
            }

            await Task.Delay(Interval);
        }
    }

    public static Task<T> ThatAsync<T>(Func<T> read, Func<T, bool> done, string what) =>
        ThatAsync(() => Task.FromResult(read()), done, what);

    public static async Task TrueAsync(Func<Task<bool>> condition, string what) =>
        await ThatAsync(condition, holds => holds, what);

    public static async Task TrueAsync(Func<bool> condition, string what) =>
        await ThatAsync(() => Task.FromResult(condition()), holds => holds, what);
}
