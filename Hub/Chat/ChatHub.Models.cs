using ChatStreaming.Contracts;
using Microsoft.AspNetCore.SignalR;

namespace ChatStreaming.Server.Chat;

/// <summary>The model catalog and the caller's token usage.</summary>
public sealed partial class ChatHub
{
    public Task<IReadOnlyList<ModelInfo>> ListModels() => Task.FromResult(models.List());

    public async Task<IReadOnlyList<ModelUsage>> GetUsage(UsageRequest? request)
    {
        request ??= new UsageRequest();
        if (request.From is { } from && request.To is { } to && to < from)
        {
            throw new HubException("to must not be before from");
        }

        return await store.GetUsageAsync(UserId, request.From, request.To, Aborted);
    }

    /// <summary>The catalog's spelling of <paramref name="model"/>; an unknown name is refused before anything is saved.</summary>
    private string ModelName(string model) =>
        models.Find(model) ?? throw new HubException(ChatErrors.UnknownModel(model, models.List().Select(m => m.Name)));
}
