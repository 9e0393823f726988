using System.Collections.Concurrent;
using CsCheck;
using MeterAgent.Ledger.Credits;
using static MeterAgent.Ledger.Tests.Credits.Credit;
using Op = MeterAgent.Ledger.Tests.Credits.LedgerOperation;

namespace MeterAgent.Ledger.Tests.Credits;

/// <summary>
/// Random operation sequences against a real store: first one caller alone, each reservation checked against a model
/// of the rule (granted when an eligible contract's lots cover it; otherwise as the overage policy says), then several
/// callers at once, with the lots checked while they run; whatever the interleaving, credits are conserved, nothing
/// goes negative, every reservation is resolved exactly once, and an operation on a reservation that exists never
/// fails for want of it. A backend binds it with a sealed subclass (see Sqlite/SqliteCreditLedgerTests.cs).
/// </summary>
public abstract class LedgerInvariantTests
{
    private const int Reservations = 6;
    private static readonly string[] Contracts = ["alpha", "beta"];

    private static readonly Gen<Op> GenDeliver =
        Gen.Select(Gen.Int[0, 1], Gen.Long[1, 20 * Unit], Gen.Frequency((4, Gen.Const(0)), (1, Gen.Int[1, 2])),
            (c, q, w) => (Op)new Op.Deliver(Contracts[c], q, w));

    private static readonly Gen<Op> GenOperation = Gen.Frequency(
        (2, GenDeliver),
        (6, Gen.Select(Gen.Int[0, Reservations - 1], Gen.Long[0, 8 * Unit], Gen.Long[0, 8 * Unit], Gen.Int[0, 2],
            (r, a, b, c) => (Op)new Op.Reserve(r, a, b, c))),
        (5, Gen.Select(Gen.Int[0, Reservations - 1], Gen.Long[0, 12 * Unit], (r, a) => (Op)new Op.Post(r, a))),
        (2, Gen.Int[0, Reservations - 1].Select(r => (Op)new Op.Void(r))),
        (1, Gen.Int[0, 120].Select(m => (Op)new Op.Expire(m))),
        (1, Gen.Select(Gen.Int[0, 7], Gen.Long[-10 * Unit, 10 * Unit], (l, d) => (Op)new Op.Correct(l, d))));

    private static readonly Gen<OveragePolicy> GenPolicy = Gen.OneOf(
        Gen.Const(OveragePolicy.Reject),
        Gen.Const(new OveragePolicy(OveragePolicyKind.Allow)),
        Gen.Long[0, 10 * Unit].Select(limit => new OveragePolicy(OveragePolicyKind.AllowUpTo, limit)));

    private static readonly Gen<(OveragePolicy Policy, Op[] Initial, Op[] Alone, Op[][] Callers)> GenScenario =
        Gen.Select(GenPolicy, GenDeliver.Array[0, 4], GenOperation.Array[0, 10], GenOperation.Array[1, 14].Array[2, 4]);

    /// <summary>A fresh, empty backend for one run; the test disposes it.</summary>
    protected abstract ILedgerStores OpenStores();

    [Fact]
    public async Task Invariants_hold_under_random_concurrent_interleavings()
    {
        await GenScenario.SampleAsync(RunAsync, iter: 1_000, threads: 2);
    }

    private async Task RunAsync(OveragePolicy policy, Op[] initial, Op[] alone, Op[][] callers)
    {
        await using var stores = OpenStores();
        var ledger = stores.Ledger;
        var accountId = (await stores.Accounts.CreateAccountAsync("Acme")).Id;
        await ledger.SetPolicyAsync(accountId, policy);
        var log = new Observations(policy);

        foreach (var op in initial.Concat(alone))
        {
            await ApplyAsync(ledger, accountId, op, log, alone: true);
        }

        await VerifyAsync(ledger, accountId, log, allResolved: false);

        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = callers.Length;
        var tasks = callers.Select(ops => Task.Run(async () =>
        {
            await start.Task;
            try
            {
                foreach (var op in ops)
                {
                    await ApplyAsync(ledger, accountId, op, log, alone: false);
                }
            }
            finally
            {
                Interlocked.Decrement(ref running);
            }
        })).ToList();

        // Checked while the callers run, not only once they are done: a lot that goes out of balance for a moment
        // (an update applied in two steps, a release before its debit) shows here.
        tasks.Add(Task.Run(async () =>
        {
            await start.Task;
            while (Volatile.Read(ref running) > 0)
            {
                foreach (var lot in await ledger.GetLotsAsync(accountId))
                {
                    Assert.True(lot.IsBalanced, $"lot out of balance while callers run: {lot}");
                }

                Assert.True(await ledger.GetOverageMicroAsync(accountId) >= 0, "negative overage while callers run");
            }
        }));
        start.SetResult();
        await Task.WhenAll(tasks);

        await VerifyAsync(ledger, accountId, log, allResolved: false);

        // Everything still pending expires; then nothing may remain pending anywhere.
        await ledger.ExpireAsync(T0.AddDays(1));
        await VerifyAsync(ledger, accountId, log, allResolved: true);
    }

    // alone: no other caller runs, so what the store holds before the operation is what it decides on.
    private static async Task ApplyAsync(ICreditLedger ledger, string accountId, Op op, Observations log, bool alone)
    {
        switch (op)
        {
            case Op.Deliver d:
                var (start, end) = d.Window switch
                {
                    0 => (T0.AddDays(-1), T0.AddDays(1 + (d.QuantityMicro % 5))),
                    1 => (T0.AddDays(-3), T0.AddDays(-1)),
                    _ => (T0.AddDays(1), T0.AddDays(9)),
                };
                var delivered = await ledger.ApplyDeliveryAsync(Notice(accountId, d.QuantityMicro, d.Contract, start, end), T0);
                log.Delivered[delivered.Lot!.LotId] = d.QuantityMicro;
                break;
            case Op.Reserve r:
                var estimates = new Dictionary<string, long>();
                if (r.Contracts != 1)
                {
                    estimates["alpha"] = r.AlphaMicro;
                }

                if (r.Contracts != 0)
                {
                    estimates["beta"] = r.BetaMicro;
                }

                var request = new ReserveRequest(Id(r.Reservation), accountId, estimates, T0, T0.AddMinutes(60));
                log.Requests.Add((request.ReservationId, estimates));
                Expectation? expected = null;
                if (alone && await ledger.GetReservationAsync(request.ReservationId) is null)
                {
                    expected = Expect(log.Policy, estimates, await ledger.GetLotsAsync(accountId),
                        await ledger.GetOverageMicroAsync(accountId) + await HeldAsync(ledger, log));
                }

                var outcome = await ledger.ReserveAsync(request);
                var grantedAt = log.Tick();
                if (expected is { } granting && outcome.Granted)
                {
                    log.Held[request.ReservationId] = granting.ShortfallMicro;
                }

                log.Reserves.Add((request.ReservationId, outcome, grantedAt));
                CheckOutcome(log.Policy, request.ReservationId, outcome, expected);
                break;
            case Op.Post p:
                var postedAt = log.Tick();
                try
                {
                    // Half the posts go the way the proxy ends a request: post and close its record in one write.
                    var result = p.ActualMicro % 2 == 0 && Granted(log, Id(p.Reservation)) is { } granted
                        ? await ledger.SettleAndCloseAsync(granted, p.ActualMicro, RecordFor(granted, accountId))
                        : await ledger.PostAsync(Id(p.Reservation), p.ActualMicro);
                    log.Resolutions.Add((Id(p.Reservation), p.ActualMicro, result));
                }
                catch (KeyNotFoundException)
                {
                    // Not reserved yet, or refused: nothing to post. VerifyAsync checks that no grant had returned.
                    log.NotFound.Add((Id(p.Reservation), postedAt));
                }

                break;
            case Op.Void v:
                var voidedAt = log.Tick();
                try
                {
                    var result = v.Reservation % 2 == 0 && Granted(log, Id(v.Reservation)) is { } granted
                        ? await ledger.SettleAndCloseAsync(granted, null, RecordFor(granted, accountId))
                        : await ledger.VoidAsync(Id(v.Reservation));
                    log.Resolutions.Add((Id(v.Reservation), null, result));
                }
                catch (KeyNotFoundException)
                {
                    log.NotFound.Add((Id(v.Reservation), voidedAt));
                }

                break;
            case Op.Expire e:
                await ledger.ExpireAsync(T0.AddMinutes(e.MinutesAfter));
                break;
            case Op.Correct c:
                var lots = await ledger.GetLotsAsync(accountId);
                if (lots.Count > 0)
                {
                    var lotId = lots[c.Lot % lots.Count].LotId;
                    if (await ledger.CorrectAsync(lotId, c.DeltaMicro, "property test", T0) is not null)
                    {
                        log.Corrections.Add((lotId, c.DeltaMicro));
                    }
                }

                break;
        }
    }

    private static string Id(int reservation) => $"res_{reservation}";

    /// <summary>
    /// The overage the reservations granted while one caller ran alone were granted beyond their credits, counted while
    /// they are still pending: what <c>allow_up_to</c> counts beside the posted overage.
    /// </summary>
    private static async Task<long> HeldAsync(ICreditLedger ledger, Observations log)
    {
        long held = 0;
        foreach (var (id, shortfall) in log.Held)
        {
            if ((await ledger.GetReservationAsync(id))?.State == ReservationState.Pending)
            {
                held += shortfall;
            }
        }

        return held;
    }

    /// <summary>
    /// What the rule says of a reservation made when the account holds <paramref name="lots"/> (in redemption order)
    /// and owes <paramref name="overage"/> (posted, and held by pending reservations): it redeems under the contract of the first open lot with credit that the
    /// request covers, and is granted when that contract's open lots cover the estimate; otherwise the policy decides.
    /// </summary>
    private static Expectation Expect(OveragePolicy policy, Dictionary<string, long> estimates, IReadOnlyList<CreditLot> lots, long overage)
    {
        var open = lots.Where(l => l.WindowStart <= T0 && T0 < l.WindowEnd && l.AvailableMicro > 0).ToList();
        var first = open.FirstOrDefault(l => estimates.ContainsKey(l.ContractId));
        long shortfall, reserved = 0;
        string? contract = null;
        if (first is null)
        {
            // No credit at all: only the policy can serve it, counted at the cheapest estimate.
            shortfall = estimates.Count == 0 ? 0 : estimates.Values.Min();
        }
        else
        {
            contract = first.ContractId;
            var available = open.Where(l => l.ContractId == contract).Sum(l => l.AvailableMicro);
            reserved = Math.Min(available, estimates[contract]);
            shortfall = estimates[contract] - reserved;
        }

        var covered = first is not null && shortfall == 0;
        var granted = covered || policy.Kind switch
        {
            OveragePolicyKind.Allow => true,
            OveragePolicyKind.AllowUpTo => shortfall <= policy.LimitMicro - overage,
            _ => false,
        };
        return new Expectation(granted, contract, reserved, shortfall);
    }

    /// <summary>A reserve's outcome against the policy, and, when one caller ran alone, against the model.</summary>
    private static void CheckOutcome(OveragePolicy policy, string id, ReserveOutcome outcome, Expectation? expected)
    {
        if (!outcome.Granted)
        {
            Assert.True(policy.Kind != OveragePolicyKind.Allow, $"{id} refused ({outcome.RefusalReason}) under allow");
            Assert.Equal(
                policy.Kind == OveragePolicyKind.Reject ? RefusalReasons.InsufficientQuota : RefusalReasons.OverageLimitExceeded,
                outcome.RefusalReason);
            Assert.Null(outcome.Reservation);
        }

        if (expected is { } model)
        {
            Assert.True(model.Granted == outcome.Granted, $"{id} under {policy}: expected granted={model.Granted}, got {outcome.Granted} ({outcome.RefusalReason})");
            if (outcome.Granted && model.ContractId is not null)
            {
                Assert.Equal((model.ContractId, model.ReservedMicro), (outcome.Reservation!.ContractId, outcome.Reservation.ReservedMicro));
            }
        }
    }

    private static async Task VerifyAsync(ICreditLedger ledger, string accountId, Observations log, bool allResolved)
    {
        // A post or void that found no reservation must have started before any grant of its id returned.
        foreach (var (id, at) in log.NotFound)
        {
            Assert.DoesNotContain(log.Reserves, r => r.Id == id && r.Outcome.Granted && r.At < at);
        }

        var lots = (await ledger.GetLotsAsync(accountId)).ToDictionary(l => l.LotId);
        Assert.Equal(log.Delivered.Keys.Order(), lots.Keys.Order());
        foreach (var lot in lots.Values)
        {
            Assert.True(lot.AvailableMicro >= 0 && lot.PendingMicro >= 0 && lot.RedeemedMicro >= 0, $"negative amount in {lot}");
            Assert.Equal(lot.DeliveredMicro, lot.AvailableMicro + lot.PendingMicro + lot.RedeemedMicro);
            var corrected = log.Corrections.Where(c => c.LotId == lot.LotId).Sum(c => c.Delta);
            Assert.Equal(log.Delivered[lot.LotId] + corrected, lot.DeliveredMicro);
        }

        var pendingByLot = lots.Keys.ToDictionary(id => id, _ => 0L);
        var redeemedByLot = lots.Keys.ToDictionary(id => id, _ => 0L);
        long overage = 0;
        for (var i = 0; i < Reservations; i++)
        {
            var id = Id(i);
            var stored = await ledger.GetReservationAsync(id);
            var reserves = log.Reserves.Where(r => r.Id == id).Select(r => r.Outcome).ToList();
            foreach (var refusal in reserves.Where(o => !o.Granted))
            {
                Assert.NotNull(refusal.RefusalReason);
            }

            var resolutions = log.Resolutions.Where(r => r.Id == id).ToList();
            if (stored is null)
            {
                Assert.All(reserves, o => Assert.False(o.Granted));
                Assert.Empty(resolutions);
                continue;
            }

            // Every grant for this id is the one stored reservation.
            Assert.Contains(reserves, o => o.Granted);
            // A post that found its reservation expired redeems late: its draws follow the granted ones.
            // (A reserve repeated after the late post returns the stored reservation, late draws included: the first
            // grant has the fewest draws.)
            var grantedDraws = int.MaxValue;
            foreach (var granted in reserves.Where(o => o.Granted).Select(o => o.Reservation!))
            {
                grantedDraws = Math.Min(grantedDraws, granted.Draws.Count);
                Assert.True(
                    granted.Draws.Select(d => (d.LotId, d.ReservedMicro)).SequenceEqual(stored.Draws.Take(granted.Draws.Count).Select(d => (d.LotId, d.ReservedMicro))),
                    $"{id}: granted {granted} / stored {stored} / draws {string.Join(";", stored.Draws)} / granted draws {string.Join(";", granted.Draws)}");
                var late = stored.Draws.Skip(granted.Draws.Count).ToList();
                Assert.True(stored.ReservedMicro == granted.ReservedMicro + late.Sum(d => d.ReservedMicro),
                    $"{id}: granted {granted.ReservedMicro} [{string.Join(";", granted.Draws)}] stored {stored.State} {stored.ReservedMicro} [{string.Join(";", stored.Draws)}]");
                Assert.All(late, d => Assert.Equal(d.ReservedMicro, d.PostedMicro));
                Assert.True(late.Count == 0 || stored.Draws.Take(granted.Draws.Count).All(d => d.PostedMicro == 0), $"{id} redeemed late on top of its reservation");
            }

            Assert.Equal(stored.ReservedMicro, stored.Draws.Sum(d => d.ReservedMicro));
            Assert.All(stored.Draws, d => Assert.Equal(stored.ContractId, lots[d.LotId].ContractId));
            Assert.All(stored.Draws, d => Assert.InRange(d.PostedMicro, 0, d.ReservedMicro));
            Assert.Equal(stored.PostedMicro, stored.Draws.Sum(d => d.PostedMicro));

            // Resolved exactly once: every post or void that returned saw the same final state.
            if (stored.State == ReservationState.Pending)
            {
                Assert.False(allResolved, $"{id} is still pending after the final expiry");
                Assert.Empty(resolutions);
            }

            foreach (var (_, _, seen) in resolutions)
            {
                // Expired is final for a void, not for a post: a post after it redeems late.
                if (seen.State == ReservationState.Expired && stored.State == ReservationState.Posted)
                {
                    continue;
                }

                Assert.Equal((stored.State, stored.PostedMicro, stored.OverageMicro), (seen.State, seen.PostedMicro, seen.OverageMicro));
                Assert.Equal(stored.Draws, seen.Draws);
            }

            // What was first granted (the grant with the fewest draws: later ones may show late draws) fits one of the
            // requests made for this id: never more than its estimate, all of it under reject, and under allow_up_to a
            // shortfall within the limit.
            var first = reserves.Where(o => o.Granted).Select(o => o.Reservation!).MinBy(g => g.Draws.Count)!;
            Assert.Contains(log.Requests, r => r.Id == id && r.Estimates.TryGetValue(first.ContractId ?? "", out var estimate)
                && first.ReservedMicro <= estimate
                && (log.Policy.Kind != OveragePolicyKind.Reject || first.ReservedMicro == estimate)
                && (log.Policy.Kind != OveragePolicyKind.AllowUpTo || estimate - first.ReservedMicro <= log.Policy.LimitMicro));

            if (stored.State == ReservationState.Posted)
            {
                // One of the posts is the one that resolved it: posted + overage = its actual, and posted = min(actual,
                // reserved) unless it redeemed late, from what the lots held after its reservation expired.
                var postedLate = stored.Draws.Count > grantedDraws || stored.Draws.All(d => d.PostedMicro == 0);
                Assert.Contains(resolutions, r => r.Actual is { } actual
                    && (postedLate || stored.PostedMicro == Math.Min(actual, stored.ReservedMicro))
                    && stored.PostedMicro + stored.OverageMicro == actual);

                // Draws are redeemed in order: a later draw posts only once the earlier ones are full.
                for (var d = 1; d < grantedDraws; d++)
                {
                    Assert.True(stored.Draws[d].PostedMicro == 0 || stored.Draws[d - 1].PostedMicro == stored.Draws[d - 1].ReservedMicro, $"{id} posted out of order: granted {grantedDraws}, {string.Join("; ", stored.Draws)}, state {stored.State}, posted {stored.PostedMicro}, reserved {stored.ReservedMicro}");
                }

                overage += stored.OverageMicro;
                foreach (var draw in stored.Draws)
                {
                    redeemedByLot[draw.LotId] += draw.PostedMicro;
                }
            }
            else
            {
                Assert.Equal((0L, 0L), (stored.PostedMicro, stored.OverageMicro));
            }

            if (stored.State == ReservationState.Pending)
            {
                foreach (var draw in stored.Draws)
                {
                    pendingByLot[draw.LotId] += draw.ReservedMicro;
                }
            }
        }

        foreach (var lot in lots.Values)
        {
            Assert.Equal(pendingByLot[lot.LotId], lot.PendingMicro);
            Assert.Equal(redeemedByLot[lot.LotId], lot.RedeemedMicro);
            if (allResolved)
            {
                Assert.Equal(0, lot.PendingMicro);
            }
        }

        Assert.Equal(overage, await ledger.GetOverageMicroAsync(accountId));
    }

    private static Reservation? Granted(Observations log, string id)
    {
        foreach (var (reserved, outcome, _) in log.Reserves)
        {
            if (reserved == id && outcome.Granted)
            {
                return outcome.Reservation;
            }
        }

        return null;
    }

    private static Usage.UsageRecord RecordFor(Reservation reservation, string accountId) => new()
    {
        Id = reservation.ReservationId,
        AccountId = accountId,
        KeyId = "key_0000000000000001",
        Surface = "openai.chat_completions",
        StartedAt = T0,
        Status = Usage.UsageStatus.Completed,
    };

    /// <summary>What the model expects of one reserve: granted or not, and if so under which contract and how much.</summary>
    private readonly record struct Expectation(bool Granted, string? ContractId, long ReservedMicro, long ShortfallMicro);

    /// <summary>What the callers saw, for checking against what the store holds afterwards.</summary>
    private sealed class Observations(OveragePolicy policy)
    {
        private long _clock;

        public OveragePolicy Policy { get; } = policy;

        public ConcurrentDictionary<string, long> Delivered { get; } = new();

        /// <summary>The shortfall of each reservation granted while one caller ran alone: the overage it holds while pending.</summary>
        public ConcurrentDictionary<string, long> Held { get; } = new();

        /// <summary>Reserves that returned, with the tick after they returned.</summary>
        public ConcurrentBag<(string Id, ReserveOutcome Outcome, long At)> Reserves { get; } = [];

        public ConcurrentBag<(string Id, Dictionary<string, long> Estimates)> Requests { get; } = [];

        /// <summary>Posts and voids that found no reservation, with the tick before they started.</summary>
        public ConcurrentBag<(string Id, long At)> NotFound { get; } = [];

        /// <summary>Posts (with their actual) and voids (null actual) that returned.</summary>
        public ConcurrentBag<(string Id, long? Actual, Reservation Result)> Resolutions { get; } = [];

        public ConcurrentBag<(string LotId, long Delta)> Corrections { get; } = [];

        /// <summary>A shared order of events across callers: what returned before what started.</summary>
        public long Tick() => Interlocked.Increment(ref _clock);
    }
}
