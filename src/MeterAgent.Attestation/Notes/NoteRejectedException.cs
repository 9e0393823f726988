namespace MeterAgent.Attestation.Notes;

/// <summary>A signed note that must not be used, with the reason in <see cref="Rejection"/> and the detail in the message.</summary>
public sealed class NoteRejectedException : Exception
{
    public NoteRejectedException(NoteRejection rejection, string message)
        : base(message) => Rejection = rejection;

    public NoteRejectedException()
        : this(NoteRejection.Malformed, "The note was rejected.")
    {
    }

    public NoteRejectedException(string message)
        : this(NoteRejection.Malformed, message)
    {
    }

    public NoteRejectedException(string message, Exception innerException)
        : base(message, innerException) => Rejection = NoteRejection.Malformed;

    public NoteRejection Rejection { get; }

    internal static NoteRejectedException Malformed(string reason) =>
        new(NoteRejection.Malformed, $"Malformed note: {reason}.");
}
