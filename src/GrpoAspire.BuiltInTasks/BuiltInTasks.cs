using GrpoAspire.Countdown;
using GrpoAspire.Tasks;

namespace GrpoAspire.BuiltInTasks;

/// <summary>Every built-in task and its reward functions.</summary>
public static class BuiltInTasks
{
    public static TaskCatalog Catalog { get; } = new([CountdownDefinition.Instance, Nearest.NearestDefinition.Instance]);
}
