namespace ChatStreaming.Worker.Ending;

/// <summary>What a job finds when it is about to start its answer (<see cref="GenerationState.StartingAsync"/>).</summary>
internal enum AnswerStart
{
    Run,
    Cancelled,

    /// <summary>Another instance carries the answer on (a later epoch): this job ends nothing and announces nothing.</summary>
    TakenOver,
}
