namespace GrpoAspire.Coordination;

/// <summary>
/// A stream entry that could not be read as its message: skipped (and, on the jobs stream, acknowledged) so
/// that one bad writer cannot stall every consumer behind it.
/// </summary>
/// <param name="Stream">The stream key.</param>
/// <param name="EntryId">The entry's id, e.g. <c>1700000000000-0</c>.</param>
/// <param name="Reason">Why it was rejected.</param>
public sealed record MalformedEntry(string Stream, string EntryId, string Reason);
