namespace MeterAgent.Ledger.Credits;

/// <summary>
/// How a reservation ends, for every store: the split of a posted amount across its draws, the resolved reservation a
/// post, void or expiry leaves, and a late post's redemption. A store moves the amounts this decides and checks
/// nothing twice: the invariants are asserted here, where each resolution is made.
/// </summary>
public static class Settlement
{
    /// <summary>
    /// Splits a posted amount across the draws in draw order: each draw redeems up to what it reserved, a later one only
    /// once the earlier ones are full; whatever is beyond the reservation is overage.
    /// </summary>
    public static long[] SplitPosted(IReadOnlyList<LotDraw> draws, long actualMicro)
    {
        ArgumentNullException.ThrowIfNull(draws);
        ArgumentOutOfRangeException.ThrowIfNegative(actualMicro);

        var remaining = actualMicro;
        var posted = new long[draws.Count];
        for (var i = 0; i < posted.Length; i++)
        {
            posted[i] = Math.Min(draws[i].ReservedMicro, remaining);
            remaining -= posted[i];
        }

        return posted;
    }

    /// <summary>
    /// The pending reservation as a post of <paramref name="actualMicro"/> resolves it (redeemed across its draws, the
    /// rest released, any excess overage), or as a void releases it when <paramref name="actualMicro"/> is null.
    /// </summary>
    public static Reservation Resolve(Reservation pending, long? actualMicro)
    {
        ArgumentNullException.ThrowIfNull(pending);
        if (actualMicro is not { } actual)
        {
            return Release(pending, ReservationState.Voided);
        }

        RequirePending(pending);
        var postedPerDraw = SplitPosted(pending.Draws, actual);
        var draws = new LotDraw[postedPerDraw.Length];
        long posted = 0;
        for (var i = 0; i < draws.Length; i++)
        {
            draws[i] = pending.Draws[i] with { PostedMicro = postedPerDraw[i] };
            posted += postedPerDraw[i];
        }

        var resolved = pending with { State = ReservationState.Posted, PostedMicro = posted, OverageMicro = actual - posted, Draws = draws };
        CheckPosted(resolved, actual);
        return resolved;
    }

    /// <summary>The pending reservation with everything it holds released: voided, or expired past its deadline.</summary>
    public static Reservation Release(Reservation pending, ReservationState state)
    {
        ArgumentNullException.ThrowIfNull(pending);
        if (state is not (ReservationState.Voided or ReservationState.Expired))
        {
            throw new ArgumentOutOfRangeException(nameof(state), state, "A release voids or expires.");
        }

        RequirePending(pending);
        var draws = new LotDraw[pending.Draws.Count];
        for (var i = 0; i < draws.Length; i++)
        {
            draws[i] = pending.Draws[i] with { PostedMicro = 0 };
        }

        return pending with { State = state, PostedMicro = 0, OverageMicro = 0, Draws = draws };
    }

    /// <summary>
    /// An expired reservation posted anyway (the request outlived it): <paramref name="actualMicro"/> is redeemed straight
    /// from available through <paramref name="picks"/> (its own draws were released when it expired; see
    /// <see cref="Redemption.PickDraws"/>), and what they do not cover is overage. The policy no longer decides: the
    /// request was served, so its shortfall is owed.
    /// </summary>
    public static Reservation PostLate(Reservation expired, IReadOnlyList<LotPick> picks, long actualMicro)
    {
        ArgumentNullException.ThrowIfNull(expired);
        ArgumentNullException.ThrowIfNull(picks);
        if (expired.State != ReservationState.Expired)
        {
            throw new InvalidOperationException($"Credit ledger inconsistency: reservation {expired.ReservationId} is {expired.State}, not expired, for a late post.");
        }

        var draws = new List<LotDraw>(expired.Draws.Count + picks.Count);
        draws.AddRange(expired.Draws);
        long drawn = 0;
        foreach (var pick in picks)
        {
            draws.Add(new LotDraw(pick.LotId, pick.AmountMicro, pick.AmountMicro));
            drawn += pick.AmountMicro;
        }

        var posted = expired with
        {
            State = ReservationState.Posted,
            ReservedMicro = expired.ReservedMicro + drawn,
            PostedMicro = drawn,
            OverageMicro = actualMicro - drawn,
            Draws = draws,
        };
        CheckPosted(posted, actualMicro);
        return posted;
    }

    /// <summary>
    /// A posted reservation accounts for every unit: redeemed + overage = the actual units, each draw redeems between 0
    /// and what it reserved, and the draws add up to the reservation. Broken, the store would write money that does not
    /// add up, so this throws (the write rolls back) rather than only asserting in debug builds.
    /// </summary>
    public static void CheckPosted(Reservation posted, long actualMicro)
    {
        ArgumentNullException.ThrowIfNull(posted);
        long reserved = 0, redeemed = 0;
        var drawsInRange = true;
        foreach (var draw in posted.Draws)
        {
            reserved += draw.ReservedMicro;
            redeemed += draw.PostedMicro;
            drawsInRange &= draw.PostedMicro >= 0 && draw.PostedMicro <= draw.ReservedMicro;
        }

        if (posted.State != ReservationState.Posted
            || posted.PostedMicro + posted.OverageMicro != actualMicro
            || posted.OverageMicro < 0
            || redeemed != posted.PostedMicro
            || reserved != posted.ReservedMicro
            || !drawsInRange)
        {
            throw new InvalidOperationException(
                $"Credit ledger inconsistency: reservation {posted.ReservationId} posted {actualMicro} as {posted.State} "
                + $"redeemed {posted.PostedMicro} (draws {redeemed}) + overage {posted.OverageMicro}, reserved {posted.ReservedMicro} (draws {reserved}).");
        }
    }

    private static void RequirePending(Reservation reservation)
    {
        if (reservation.State != ReservationState.Pending)
        {
            throw new InvalidOperationException($"Credit ledger inconsistency: reservation {reservation.ReservationId} is {reservation.State}, not pending, for a resolution.");
        }
    }
}
