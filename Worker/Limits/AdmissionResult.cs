namespace ChatStreaming.Worker.Limits;

internal enum AdmissionResult
{
    Admitted,
    TooManyMessages,
    TooManyRunning,
    TokenBudgetSpent,
}
