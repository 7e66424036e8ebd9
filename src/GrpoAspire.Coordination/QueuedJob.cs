using GrpoAspire.Contracts.V1;

namespace GrpoAspire.Coordination;

/// <summary>A job delivered to one consumer, with the stream entry id to acknowledge once its group is appended.</summary>
public sealed record QueuedJob(string EntryId, RolloutJob Job);
