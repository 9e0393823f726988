using System.Text;

namespace MeterAgent.Attestation.Notes;

/// <summary>
/// The key name rule of c2sp.org/signed-note: non-empty, no Unicode spaces, no '+'. Both key encodings and every
/// signature line split on those characters, so a name holding one would be read back as a different name.
/// </summary>
internal static class NoteKeyName
{
    public static bool IsValid(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return false;
        }

        foreach (var rune in name.EnumerateRunes())
        {
            // EnumerateRunes yields U+FFFD for a lone surrogate: such a name has no UTF-8 form to sign.
            if (rune == Rune.ReplacementChar || Rune.IsWhiteSpace(rune) || rune.Value == '+')
            {
                return false;
            }
        }

        return true;
    }

    public static void Require(string? name, string paramName)
    {
        if (!IsValid(name))
        {
            throw new ArgumentException(
                $"Key name {Quote(name)} is invalid: it must be non-empty and contain no spaces and no '+'.", paramName);
        }
    }

    public static string Quote(string? name) => name is null ? "(null)" : $"\"{name}\"";
}
