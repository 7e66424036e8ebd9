namespace GrpoAspire.Grpo.Recipes;

/// <summary>
/// Declares the recipe key that sets a <see cref="GrpoRecipe"/> property: its name (TRL's where TRL has the key), range
/// and one-line help. The property's initializer is the key's default. Loader, validator, <c>--dry-run</c> and
/// docs/recipe-keys.md all read these declarations (<see cref="RecipeKeys"/>), so a key is declared here and nowhere else.
/// </summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = true)]
public sealed class RecipeKeyAttribute(string name) : Attribute
{
    public string Name { get; } = name;

    public required string Help { get; set; }

    /// <summary>Lowest value of an integer or number key; unbounded when left out.</summary>
    public double Min { get; set; } = double.NegativeInfinity;

    /// <summary>Highest value of an integer or number key; unbounded when left out.</summary>
    public double Max { get; set; } = double.PositiveInfinity;

    /// <summary>Whether <see cref="Min"/> itself is out of range, e.g. a learning rate of exactly 0.</summary>
    public bool MinExclusive { get; set; }

    /// <summary>How a value is read when the property's type does not say it alone.</summary>
    public RecipeValueKind Kind { get; set; }
}

/// <summary>Values that need more than the property's type to be read.</summary>
public enum RecipeValueKind
{
    /// <summary>Read by the property's type: integer, number, bool, string or one of the recipe enums.</summary>
    ByType,

    /// <summary>torch_dtype: float32, bfloat16, float16 or auto, with their short names.</summary>
    Dtype,

    /// <summary>save_strategy and eval_strategy: <c>steps</c> (on) or <c>no</c> (off); TRL's <c>epoch</c> has no meaning here.</summary>
    StepsOrNo,

    /// <summary>A list of devices (cpu, cuda:N), master first.</summary>
    DeviceList,

    /// <summary>reward_funcs: the functions of <see cref="GrpoRecipe.Rewards"/>, keeping their weights when the count is unchanged.</summary>
    RewardFunctions,

    /// <summary>reward_weights: one weight per function already in <see cref="GrpoRecipe.Rewards"/>.</summary>
    RewardWeights,
}
