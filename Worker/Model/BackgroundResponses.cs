using ChatStreaming.Worker.Diagnostics;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using OpenAI.Responses;

namespace ChatStreaming.Worker.Model;

/// <summary>
/// Cancels a background response of the Responses API at the provider (<c>POST /responses/{id}/cancel</c>) once its answer
/// ended without it: a background response goes on generating (and is billed) after its reader goes away. Called only
/// for an answer this instance ended: a fenced owner's stop must not cancel the response its successor reads.
/// </summary>
internal sealed class BackgroundResponses(ILogger<BackgroundResponses> logger)
{
    /// <summary>How long a cancel may take before it is given up (it runs after the answer's end is announced).</summary>
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    // The SDK marks its Responses client for evaluation (OPENAI001), as ModelClients says.
#pragma warning disable OPENAI001
    /// <summary>Best effort: a failure is logged (never the key, the URL or the provider's error text) and changes nothing.</summary>
    public async Task CancelAsync(CatalogModel model, string responseId)
    {
        if (model.Client.GetService<ResponsesClient>() is not { } client)
        {
            return;
        }

        using var timeout = new CancellationTokenSource(Timeout);
        try
        {
            await client.CancelResponseAsync(responseId, timeout.Token);
            WorkerLog.BackgroundResponseCancelled(logger, model.Name);
        }
        catch (Exception ex) when (ex is System.ClientModel.ClientResultException or HttpRequestException or OperationCanceledException)
        {
            WorkerLog.BackgroundResponseNotCancelled(logger, model.Name, (ex as System.ClientModel.ClientResultException)?.Status);
        }
    }
#pragma warning restore OPENAI001
}
