using MeterAgent.Common;
using Microsoft.AspNetCore.Routing.Matching;

namespace MeterAgent.WebConsole;

/// <summary>Who a console endpoint is for: the provider's operator (management port) or an enterprise (client port).</summary>
public enum ConsoleAudience
{
    Operator,
    Enterprise,
}

/// <summary>Endpoint metadata: the console endpoint belongs to one audience, so to one listener.</summary>
internal sealed record ConsoleAudienceMetadata(ConsoleAudience Audience);

/// <summary>
/// The operator's and the enterprise's consoles share their paths (<c>/console</c>, <c>/console/signin</c>, ...), one on
/// each listener: two endpoints with one route template, which routing alone would call ambiguous. This policy keeps,
/// among a request's candidates, only the console endpoints of the connection's listener; the other listener's are
/// dropped before selection, so what is left (the fallback, a YARP route) answers as for any unknown path there.
/// Endpoints without <see cref="ConsoleAudienceMetadata"/> are untouched: <c>KeepListenersApart</c> keeps them apart.
/// </summary>
internal sealed class ConsoleListenerPolicy : MatcherPolicy, IEndpointSelectorPolicy
{
    // Among the selector policies, first: which endpoints exist on this listener is settled before anything else looks.
    public override int Order => -500;

    public bool AppliesToEndpoints(IReadOnlyList<Endpoint> endpoints)
    {
        foreach (var endpoint in endpoints)
        {
            if (endpoint.Metadata.GetMetadata<ConsoleAudienceMetadata>() is not null)
            {
                return true;
            }
        }

        return false;
    }

    public Task ApplyAsync(HttpContext httpContext, CandidateSet candidates)
    {
        var wanted = ManagementListener.IsManagementConnection(httpContext) ? ConsoleAudience.Operator : ConsoleAudience.Enterprise;
        for (var i = 0; i < candidates.Count; i++)
        {
            if (candidates.IsValidCandidate(i)
                && candidates[i].Endpoint.Metadata.GetMetadata<ConsoleAudienceMetadata>() is { } metadata
                && metadata.Audience != wanted)
            {
                candidates.SetValidity(i, false);
            }
        }

        return Task.CompletedTask;
    }
}
