namespace MeterAgent.AdversarialTests.Infrastructure;

/// <summary>Polls until a condition holds, with one generous deadline for a loaded CI machine.</summary>
internal static class Eventually
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    public static async Task<T> ThatAsync<T>(Func<Task<T>> read, Func<T, bool> done, string what)
    {
        var until = DateTime.UtcNow + Deadline;
        while (true)
        {
            var value = await read();
            if (done(value))
            {
                return value;
            }

            if (DateTime.UtcNow > until)
            {
                throw new Xunit.Sdk.XunitException($"not within {Deadline.TotalSeconds} s: {what}");
            }

            await Task.Delay(50);
        }
    }
}
