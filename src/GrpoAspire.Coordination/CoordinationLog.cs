using Microsoft.Extensions.Logging;

namespace GrpoAspire.Coordination;

/// <summary>Log messages of the coordination layer (source-generated: no formatting when the level is off).</summary>
internal static partial class CoordinationLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Warning,
        Message = "Skipped malformed entry {EntryId} of {Stream}: {Reason}")]
    public static partial void MalformedEntry(ILogger logger, string stream, string entryId, string reason);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning,
        Message = "{Count} pending jobs of {Stream} were trimmed before anyone acknowledged them; they are lost: {EntryIds}")]
    public static partial void PendingJobsTrimmed(ILogger logger, string stream, int count, string entryIds);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning,
        Message = "Polling {Stream} failed; retrying at the next poll")]
    public static partial void PollFailed(ILogger logger, string stream, Exception exception);

    [LoggerMessage(EventId = 4, Level = LogLevel.Debug,
        Message = "Step {Step}: ignored a duplicate group for job {JobId} (entry {EntryId}, replica {Replica})")]
    public static partial void DuplicateGroup(ILogger logger, int step, string jobId, string entryId, string replica);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information,
        Message = "Step {Step}: ignored a group of step {GroupStep} for job {JobId} (entry {EntryId})")]
    public static partial void OtherStepGroup(ILogger logger, int step, int groupStep, string jobId, string entryId);

    [LoggerMessage(EventId = 6, Level = LogLevel.Warning,
        Message = "Step {Step}: ignored a group for job {JobId}, which this step did not ask for (entry {EntryId})")]
    public static partial void UnexpectedGroup(ILogger logger, int step, string jobId, string entryId);

    [LoggerMessage(EventId = 7, Level = LogLevel.Warning,
        Message = "Step {Step}: dropped a group of later step {GroupStep} for job {JobId}: {Max} groups already kept for later steps")]
    public static partial void BufferFull(ILogger logger, int step, int groupStep, string jobId, int max);

    [LoggerMessage(EventId = 8, Level = LogLevel.Warning,
        Message = "Ignored weights announcement on {Channel}: {Reason}")]
    public static partial void BadAnnouncement(ILogger logger, string channel, string reason);

    [LoggerMessage(EventId = 9, Level = LogLevel.Error,
        Message = "Weights handler failed for version {Version}")]
    public static partial void HandlerFailed(ILogger logger, long version, Exception exception);

    [LoggerMessage(EventId = 10, Level = LogLevel.Warning,
        Message = "Redis is unreachable while {What} ({Error}); retrying")]
    public static partial void RedisDown(ILogger logger, string what, string error);

    [LoggerMessage(EventId = 11, Level = LogLevel.Information,
        Message = "Redis is back after {Seconds:F1} s while {What}")]
    public static partial void RedisBack(ILogger logger, string what, double seconds);

    [LoggerMessage(EventId = 12, Level = LogLevel.Warning,
        Message = "Step {Step}: {Count} jobs are gone from Redis and their groups never arrived (Redis restarted empty, or the jobs stream was trimmed); enqueued again: {JobIds}")]
    public static partial void JobsLost(ILogger logger, int step, int count, string jobIds);

    [LoggerMessage(EventId = 13, Level = LogLevel.Debug,
        Message = "Reading {Key} for missed weights announcements failed ({Error}); trying again at the next check")]
    public static partial void RecheckFailed(ILogger logger, string key, string error);
}
