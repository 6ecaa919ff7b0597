namespace ChatStreaming.Worker.Redis;

public enum AdmissionResult
{
    Admitted,
    TooManyMessages,
    TooManyRunning,
    TokenBudgetSpent,
}
