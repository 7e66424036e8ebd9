namespace GrpoAspire.Coordination;

/// <summary>A weights version the trainer serves, and where a replica fetches it (the trainer's weight service).</summary>
/// <param name="Version">Policy version, increasing by one per optimizer step that publishes.</param>
/// <param name="Address">Address of the weight service that serves this version, e.g. <c>http://trainer:5001</c>.</param>
/// <param name="PublishedAt">When the trainer announced it.</param>
/// <param name="Incarnation">
/// The trainer process that announced it. Versions are ordered within one incarnation only: a trainer resumed from a
/// checkpoint older than the last announced version announces a lower version under a new incarnation, and replicas
/// take it (see <see cref="WeightAnnouncer"/>).
/// </param>
public sealed record WeightAnnouncement(long Version, string Address, DateTimeOffset PublishedAt, string Incarnation)
{
    /// <summary>True when this announcement is not one a replica serving (<paramref name="incarnation"/>, <paramref name="version"/>) has or has gone past.</summary>
    public bool IsNewerThan(string incarnation, long version) => Incarnation != incarnation || Version > version;
}
