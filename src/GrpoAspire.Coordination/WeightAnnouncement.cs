namespace GrpoAspire.Coordination;

/// <summary>A weights version the trainer serves, and where a replica fetches it (the trainer's weight service).</summary>
/// <param name="Version">Policy version, increasing by one per optimizer step that publishes.</param>
/// <param name="Address">Address of the weight service that serves this version, e.g. <c>http://trainer:5001</c>.</param>
/// <param name="PublishedAt">When the trainer announced it.</param>
public sealed record WeightAnnouncement(long Version, string Address, DateTimeOffset PublishedAt);
