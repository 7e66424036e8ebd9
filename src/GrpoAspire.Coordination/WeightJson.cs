using System.Text.Json.Serialization;

namespace GrpoAspire.Coordination;

/// <summary>JSON of the weights channel, source-generated (no reflection), with snake_case names like the protos.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(WeightAnnouncement))]
internal sealed partial class WeightJson : JsonSerializerContext;
