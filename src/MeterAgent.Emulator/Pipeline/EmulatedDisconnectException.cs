namespace MeterAgent.Emulator.Pipeline;

/// <summary>
/// Thrown out of a request the "disconnect" fault cuts short. Kestrel then closes the connection after the bytes already
/// written, without ending the response, and logs this exception; its message says the cut was asked for.
/// </summary>
internal sealed class EmulatedDisconnectException()
    : Exception("Emulated upstream disconnect (fault 'disconnect'): the connection is closed mid-response on purpose.");
