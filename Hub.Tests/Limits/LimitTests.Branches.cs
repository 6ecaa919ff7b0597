using Microsoft.AspNetCore.SignalR;

namespace ChatStreaming.Hub.Tests.Limits;

public partial class LimitTests
{
    [Fact]
    public async Task RegenerateAndEditAreCountedByTheSendLimitsAcrossBothInstances()
    {
        var (x, y) = await PairAsync();
        await using var onX = await cluster.ConnectAsync(x.Url, "re-asker");
        await using var onY = await cluster.ConnectAsync(y.Url, "re-asker");
        var conversation = await onX.CreateConversationAsync();
        var sent = await onX.SendAsync(conversation.Id, "first");
        var regenerated = await onY.Hub.RegenerateAnswer(new RegenerateAnswerRequest(sent.AssistantMessageId, "regen"));

        // Two answers run: a third, whichever way it is asked for, is refused and saves nothing.
        var refusedEdit = await Assert.ThrowsAsync<HubException>(() => onX.Hub.EditMessage(new EditMessageRequest(sent.UserMessageId, "first, edited")));
        var refusedRegenerate = await Assert.ThrowsAsync<HubException>(() => onY.Hub.RegenerateAnswer(new RegenerateAnswerRequest(sent.AssistantMessageId)));
        var retry = await onX.Hub.RegenerateAnswer(new RegenerateAnswerRequest(sent.AssistantMessageId, "regen"));

        Assert.Contains($"at most {Concurrent} answers may run at once", refusedEdit.Message, StringComparison.Ordinal);
        Assert.Contains($"at most {Concurrent} answers may run at once", refusedRegenerate.Message, StringComparison.Ordinal);
        Assert.Equal(regenerated, retry); // a retry is not a new answer
        Assert.Equal(3, await MessageCountAsync(conversation.Id));

        foreach (var answer in new[] { sent.AssistantMessageId, regenerated.AssistantMessageId })
        {
            await onX.Hub.CancelGeneration(answer);
            await onX.WaitForFinishedAsync(answer);
        }

        // Ended: the per-minute limit is what is left (4 a minute: the send, the regenerate, then two more).
        var edited = await onX.Hub.EditMessage(new EditMessageRequest(sent.UserMessageId, "first, edited"));
        await onX.Hub.CancelGeneration(edited.AssistantMessageId);
        await onX.WaitForFinishedAsync(edited.AssistantMessageId);
        var again = await onY.Hub.RegenerateAnswer(new RegenerateAnswerRequest(edited.AssistantMessageId));
        await onX.Hub.CancelGeneration(again.AssistantMessageId);
        await onX.WaitForFinishedAsync(again.AssistantMessageId);
        var perMinute = await Assert.ThrowsAsync<HubException>(() => onY.Hub.RegenerateAnswer(new RegenerateAnswerRequest(again.AssistantMessageId)));
        Assert.Contains($"at most {PerMinute} messages per minute", perMinute.Message, StringComparison.Ordinal);
    }
}
