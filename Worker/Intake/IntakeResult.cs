using System.Diagnostics;
using ChatStreaming.Contracts;
using ChatStreaming.Persistence;
using ChatStreaming.Worker.Limits;
using ChatStreaming.Worker.Redis;

namespace ChatStreaming.Worker.Intake;

/// <summary>What <see cref="ExchangeIntake.AcceptAsync"/> decided: <see cref="AcceptedExchange"/> or <see cref="RefusedSend"/>.</summary>
internal abstract record IntakeResult;

/// <summary>
/// The user message and its answer's placeholder are saved. <see cref="IsNew"/>: saved and registered by this call,
/// to be announced and started; otherwise a retry of a send accepted before (same ids, nothing new to start).
/// </summary>
/// <param name="Trace">The span of the send, so the answer's generation joins its trace across the queue.</param>
internal sealed record AcceptedExchange(Exchange Exchange, string UserId, string Prompt, ActivityContext Trace) : IntakeResult
{
    public bool IsNew => Exchange.IsNew;

    /// <summary>What the admission reserved (its place among the user's running answers goes to the answer).</summary>
    public Admission Admission { get; init; }

    /// <summary>The catalog model the send asked for (null: the conversation's, else the default).</summary>
    public string? Model { get; init; }

    public Guid ConversationId => Exchange.UserMessage.ConversationId;

    /// <summary>The ids, and the answer's status as saved now (streaming for a new send).</summary>
    public SendMessageResult Result => new(Exchange.UserMessage.Id, Exchange.AssistantMessage.Id, Exchange.AssistantMessage.Status);
}

/// <summary>Refused before anything was started: <see cref="Reason"/> is the client-safe text (<see cref="ChatErrors"/>).</summary>
internal sealed record RefusedSend(string Reason) : IntakeResult;
