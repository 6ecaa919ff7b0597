using System.ClientModel;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Threading.Channels;
using ChatStreaming.Contracts;
using ChatStreaming.Worker.Diagnostics;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;

namespace ChatStreaming.Worker.Model;

/// <summary>
/// Streams one answer from the model into the relay's channel and classifies how it ended. Errors become a status and
/// a message safe to show (never the key, the URL or the provider's error text):
/// 401/403 → failed "model authentication failed"; 429/5xx before the first delta → retried (Retry-After honoured),
/// then failed; a drop or a stall after some text → interrupted; unreadable data → failed.
/// </summary>
internal sealed class ModelStreamReader(
    StallWatchdog watchdog,
    WorkerMetrics metrics,
    TimeProvider timeProvider,
    ILogger<ModelStreamReader> logger)
{
    public const string AuthenticationFailed = "model authentication failed";

    public const string EndedEarly = "the model's stream ended before the answer did";

    public const string ConnectionLost = "the connection to the model was lost during the answer";

    /// <summary>
    /// How long a background response's stream is still read, once its answer is cancelled, for the response's id (its
    /// first event): without it nobody can cancel the response at the provider, which would generate it, and bill it, to
    /// its end for nobody. A cancel that comes right after the request (a user's stop, a takeover fencing an owner woken
    /// with the provider's first events still unread) is the case; a provider that sends nothing for this long is not
    /// waited for longer.
    /// </summary>
    public static readonly TimeSpan BackgroundIdGrace = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Streams <paramref name="catalogModel"/>'s answer to <paramref name="messages"/>: text, reasoning, and the tool calls
    /// and results of the function invocation around it (each round's usage added up). A resumable model
    /// (<see cref="ModelOptions.Resumable"/>) runs it as a background response and gives every delta its continuation;
    /// <paramref name="resumeAfter"/> (one of those, <see cref="ModelContinuation"/>) resumes that response's stream after it
    /// instead of asking anew.
    /// </summary>
    public async Task<ModelOutcome> ReadAsync(
        CatalogModel catalogModel,
        IList<ChatMessage> messages,
        ChannelWriter<ModelDelta> deltas,
        CancellationToken generationToken,
        CancellationToken stoppingToken,
        byte[]? resumeAfter = null)
    {
        var background = new StrongBox<string?>();
        var outcome = await ReadCoreAsync(catalogModel, messages, deltas, resumeAfter, background, generationToken, stoppingToken);
        return outcome with { BackgroundResponseId = background.Value };
    }

    /// <summary><see cref="ReadAsync"/>; <paramref name="background"/> gets the background response's id once the provider sent it.</summary>
    private async Task<ModelOutcome> ReadCoreAsync(
        CatalogModel catalogModel,
        IList<ChatMessage> messages,
        ChannelWriter<ModelDelta> deltas,
        byte[]? resumeAfter,
        StrongBox<string?> background,
        CancellationToken generationToken,
        CancellationToken stoppingToken)
    {
        var model = catalogModel.Options;
        var chatOptions = new ChatOptions { MaxOutputTokens = model.MaxOutputTokens, Temperature = model.Temperature };
        if (model.Resumable)
        {
            chatOptions.AllowBackgroundResponses = true;
            if (resumeAfter is not null)
            {
                chatOptions.ContinuationToken = ResponseContinuationToken.FromBytes(ModelContinuation.TokenOf(resumeAfter));
                messages = []; // the provider holds the request; the stream goes on after the token's sequence number
            }
        }

        if (catalogModel.Tools.Count > 0)
        {
            chatOptions.Tools = [.. catalogModel.Tools];
            chatOptions.ToolMode = ChatToolMode.Auto;
        }

        var taken = 0;
        var retries = 0;
        string? finishReason = null;
        var finished = false; // the model said the answer ended (a finish reason after its last delta)
        TokenUsage? usage = null;
        using var stall = new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stall.Token);
        // A cancel cuts the stream at once, but a background response's only once its id is known (or after
        // BackgroundIdGrace): the loop below reads on for the id.
        using var cut = generationToken.Register(() =>
        {
            if (model.Resumable && Volatile.Read(ref background.Value) is null)
            {
                linked.CancelAfter(BackgroundIdGrace);
            }
            else
            {
                linked.Cancel();
            }
        });
        using var watched = watchdog.Watch(stall, model.StallTimeout);
        var pipeline = RetryPipeline(model, () => taken, watched, () => retries++);
        using var activity = WorkerTracing.Source.StartActivity("chat.model", ActivityKind.Client);
        activity?.SetTag("gen_ai.request.max_tokens", model.MaxOutputTokens);
        activity?.SetTag("chat.model", catalogModel.Name);
        try
        {
            await pipeline.ExecuteAsync(async token =>
            {
                generationToken.ThrowIfCancellationRequested(); // no request (nor a retry) for an answer already cancelled
                watched.Touch();
                await foreach (var update in catalogModel.Client.GetStreamingResponseAsync(messages, chatOptions, token))
                {
                    watched.Touch();
                    if (model.Resumable && update.ContinuationToken is not null)
                    {
                        // Only the background response's own updates (they carry its continuation): the function
                        // invocation's tool-result updates are not the provider's and need not carry its response id.
                        Volatile.Write(ref background.Value, update.ResponseId ?? background.Value);
                    }

                    if (generationToken.IsCancellationRequested)
                    {
                        if (!model.Resumable || background.Value is not null)
                        {
                            generationToken.ThrowIfCancellationRequested(); // cancelled, and the response's id is known
                        }

                        continue; // cancelled before its id came: read on for the id only
                    }

                    finishReason = update.FinishReason?.Value ?? finishReason;
                    foreach (var content in update.Contents)
                    {
                        finished &= content is UsageContent; // anything after a round's finish (a tool's result, the next round) is unfinished again
                        if (content is FunctionResultContent)
                        {
                            // The round that asked for the tool is done at the provider; the next one is a new
                            // background response, whose id comes with its first event.
                            Volatile.Write(ref background.Value, null);
                        }

                        if (content is UsageContent reported)
                        {
                            // One per model round: a tool call is a round of its own.
                            usage = new TokenUsage(
                                (usage?.PromptTokens ?? 0) + (reported.Details.InputTokenCount ?? 0),
                                (usage?.CompletionTokens ?? 0) + (reported.Details.OutputTokenCount ?? 0));
                        }
                        else if (ModelParts.ToDelta(content) is { } piece)
                        {
                            taken++;
                            var continuation = update.ContinuationToken is { } resume ? ModelContinuation.Encode(background.Value, resume.ToBytes().Span) : null;
                            deltas.TryWrite(new ModelDelta(piece.Text, timeProvider.UnixMilliseconds(), piece.Kind, continuation));
                        }
                    }

                    finished |= update.FinishReason is not null;
                }
            }, linked.Token);
            if (!finished)
            {
                // The stream ended cleanly without the model's finish (a gateway or proxy cut it at an event boundary):
                // what came is saved, but it is not a whole answer.
                Failed("truncated", null);
                return new ModelOutcome(taken > 0 ? MessageStatus.Interrupted : MessageStatus.Failed, EndedEarly, finishReason, usage);
            }

            return new ModelOutcome(MessageStatus.Completed, null, finishReason, usage);
        }
        catch (OperationCanceledException) when (generationToken.IsCancellationRequested)
        {
            return stoppingToken.IsCancellationRequested
                ? new ModelOutcome(MessageStatus.Interrupted, ModelOutcome.ShutDownDuringAnswer, finishReason, usage)
                : new ModelOutcome(MessageStatus.Cancelled, null, finishReason, usage);
        }
        catch (OperationCanceledException) when (stall.IsCancellationRequested)
        {
            Failed("stalled", null);
            var seconds = model.StallTimeout.TotalSeconds;
            return taken > 0
                ? new ModelOutcome(MessageStatus.Interrupted, $"the model stopped sending for {seconds:0.#} s", finishReason, usage)
                : new ModelOutcome(MessageStatus.Failed, $"the model did not answer within {seconds:0.#} s");
        }
        catch (ClientResultException ex) when (ex.Status is 401 or 403)
        {
            Failed("authentication", ex.Status);
            return new ModelOutcome(MessageStatus.Failed, AuthenticationFailed);
        }
        catch (ClientResultException ex) when (taken == 0)
        {
            Failed(ex.Status == 429 ? "rate_limited" : "http_error", ex.Status);
            var after = retries > 0 ? $" after {retries} {(retries == 1 ? "retry" : "retries")}" : "";
            return new ModelOutcome(MessageStatus.Failed, $"model unavailable: HTTP {ex.Status}{after}");
        }
        catch (JsonException)
        {
            Failed("invalid_response", null);
            return new ModelOutcome(MessageStatus.Failed, "the model sent a response that could not be read", finishReason, usage);
        }
        catch (Exception) when (taken > 0)
        {
            Failed("dropped", null);
            return new ModelOutcome(MessageStatus.Interrupted, ConnectionLost, finishReason, usage);
        }
        catch (Exception)
        {
            Failed("unreachable", null);
            return new ModelOutcome(MessageStatus.Failed, "the model could not be reached");
        }
        finally
        {
            deltas.TryComplete();
        }

        void Failed(string kind, int? status)
        {
            WorkerLog.ModelError(logger, kind, status);
            metrics.ModelError(kind);
            activity?.SetStatus(ActivityStatusCode.Error, kind);
        }
    }

    /// <summary>Retries 429 and 5xx only while no delta was taken: after that a retry would repeat text.</summary>
    private static ResiliencePipeline RetryPipeline(ModelOptions model, Func<int> taken, StallWatchdog.Watched watched, Action counted)
    {
        if (model.MaxRetries == 0)
        {
            return ResiliencePipeline.Empty;
        }

        return new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<ClientResultException>(e => taken() == 0 && (e.Status == 429 || e.Status >= 500)),
                MaxRetryAttempts = model.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromSeconds(1),
                MaxDelay = TimeSpan.FromSeconds(30),
                DelayGenerator = args => ValueTask.FromResult(RetryAfter(args.Outcome.Exception)),
                OnRetry = _ =>
                {
                    watched.Pause(); // waiting out Retry-After is not a stall
                    counted();
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
    }

    /// <summary>The server's Retry-After (seconds or an HTTP date), capped at a minute; null lets the backoff decide.</summary>
    private static TimeSpan? RetryAfter(Exception? exception)
    {
        if (exception is not ClientResultException result || result.GetRawResponse() is not { } response
            || !response.Headers.TryGetValue("Retry-After", out var value) || value is null)
        {
            return null;
        }

        if (double.TryParse(value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var seconds))
        {
            return TimeSpan.FromSeconds(Math.Clamp(seconds, 0, 60));
        }

        return DateTimeOffset.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var at)
            ? TimeSpan.FromSeconds(Math.Clamp((at - DateTimeOffset.UtcNow).TotalSeconds, 0, 60))
            : null;
    }

}
