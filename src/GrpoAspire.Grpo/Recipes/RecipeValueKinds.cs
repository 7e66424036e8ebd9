using System.Globalization;
using GrpoAspire.Tasks;
using GrpoAspire.Grpo.Math;
using GrpoAspire.Model.Qwen2;
using GrpoAspire.Model.Sampling;

namespace GrpoAspire.Grpo.Recipes;

/// <summary>
/// How one kind of value is read from a recipe and written back (the written form reads back to the same value).
/// <c>Parse</c> gets the property's current value: reward_funcs and reward_weights each change half of
/// <see cref="GrpoRecipe.Rewards"/>.
/// </summary>
internal sealed record ValueKind(string Type, string Values, Func<RecipeValue, object?, object?> Parse, Func<object?, string> Format);

/// <summary>The readers of the declared keys (<see cref="RecipeKeyAttribute"/>), chosen by the property's type or the key's kind.</summary>
internal static class RecipeValueKinds
{
    private const string SchedulerValues = "constant, constant_with_warmup, linear, cosine";
    private const string DtypeValues = "float32, bfloat16, float16, auto";

    public static ValueKind For(Type type, RecipeKeyAttribute key)
    {
        var numeric = type == typeof(int) || type == typeof(long) || type == typeof(double) || type == typeof(double?);
        if (!numeric && (double.IsFinite(key.Min) || double.IsFinite(key.Max) || key.MinExclusive))
        {
            throw new InvalidOperationException($"recipe key {key.Name}: a range needs an integer or number property, not {type.Name}");
        }

        return key.Kind switch
        {
            RecipeValueKind.ByType => ByType(type, key),
            RecipeValueKind.Dtype => Choice(DtypeValues, ParseDtype, dtype => dtype),
            RecipeValueKind.StepsOrNo => Choice("steps, no", ParseStepsOrNo, on => on ? "steps" : "no"),
            RecipeValueKind.DeviceList => new("list", "cpu or cuda:N, master first", (v, _) => Devices(v),
                value => value is IReadOnlyList<string> { Count: > 0 } devices ? string.Join(", ", devices) : "[]"),
            RecipeValueKind.RewardFunctions => new("list", "the task's reward functions (countdown: format, equation, equation_tinyzero); empty: the task's defaults",
                (v, current) => WithFunctions((IReadOnlyList<RewardWeight>)current!, v),
                value => string.Join(", ", ((IReadOnlyList<RewardWeight>)value!).Select(r => r.Function))),
            RecipeValueKind.RewardWeights => new("list", "one number per reward function",
                (v, current) => WithWeights((IReadOnlyList<RewardWeight>)current!, v),
                value => string.Join(", ", ((IReadOnlyList<RewardWeight>)value!).Select(r => Number(r.Weight)))),
            _ => throw new InvalidOperationException($"recipe key {key.Name}: unknown kind {key.Kind}"),
        };
    }

    private static ValueKind ByType(Type type, RecipeKeyAttribute key)
    {
        if (type == typeof(int) || type == typeof(long))
        {
            var min = double.IsFinite(key.Min) ? (int)key.Min : int.MinValue;
            var max = double.IsFinite(key.Max) ? (int)key.Max : int.MaxValue;
            var range = RecipeValue.IntRange(min, max);

            // seed is a long read as an int, as it always was.
            return type == typeof(int)
                ? new("integer", range, (v, _) => v.Int(min, max), value => ((int)value!).ToString(CultureInfo.InvariantCulture))
                : new("integer", range, (v, _) => (long)v.Int(min, max), value => ((long)value!).ToString(CultureInfo.InvariantCulture));
        }

        if (type == typeof(double) || type == typeof(double?))
        {
            return new(type == typeof(double) ? "number" : "number or null", RecipeValue.NumberRange(key.Min, key.Max, key.MinExclusive),
                (v, _) => v.Double(key.Min, key.Max, key.MinExclusive), value => value is double d ? Number(d) : "null");
        }

        return type switch
        {
            _ when type == typeof(bool) => new("bool", "true, false", (v, _) => v.Bool(), value => (bool)value! ? "true" : "false"),
            _ when type == typeof(string) => new("string", string.Empty, (v, _) => v.String(), value => (string)value!),
            _ when type == typeof(LrSchedulerType) => Choice(SchedulerValues, ParseScheduler, s => s.ToString().ToLowerInvariant()),
            _ when type == typeof(LossType) => Choice("grpo, bnpo, dr_grpo, dapo", GrpoEnumNames.ParseLossType, l => l.ToWireName()),
            _ when type == typeof(ScaleRewards) => Choice("group, batch, none", GrpoEnumNames.ParseScaleRewards, s => s.ToWireName()),
            _ when type == typeof(DecodeLoopMode) => Choice("auto, eager, fixed, graph", v => DecodeOptions.ParseLoop(v, key.Name), l => l.ToString().ToLowerInvariant()),
            _ when type == typeof(DecodeAttentionMode) => Choice("grouped, sdpa, sdpa-static", v => DecodeOptions.ParseAttention(v, key.Name), AttentionName),
            _ => throw new InvalidOperationException($"recipe key {key.Name}: no reader for {type.Name}; give the key a Kind"),
        };
    }

    private static ValueKind Choice<T>(string values, Func<string, T> parse, Func<T, string> format) =>
        new("choice", values, (v, _) => v.Parse(parse), value => format((T)value!));

    private static string AttentionName(DecodeAttentionMode mode) => mode == DecodeAttentionMode.SdpaStatic ? "sdpa-static" : mode.ToString().ToLowerInvariant();

    /// <summary>Shortest text that reads back to the same double, with YAML's lower-case exponent (1e-06).</summary>
    private static string Number(double value) => value.ToString(CultureInfo.InvariantCulture).ToLowerInvariant();

    private static string ParseDtype(string value) => value.ToLowerInvariant() switch
    {
        "float32" or "fp32" or "float" => "float32",
        "bfloat16" or "bf16" => "bfloat16",
        "float16" or "fp16" or "half" => "float16",
        "auto" => "auto",
        _ => throw new ArgumentException($"'{value}' is not valid; valid: {DtypeValues}"),
    };

    private static LrSchedulerType ParseScheduler(string value) => value.ToLowerInvariant() switch
    {
        "constant" or "constant_with_warmup" => LrSchedulerType.Constant,
        "linear" => LrSchedulerType.Linear,
        "cosine" => LrSchedulerType.Cosine,
        _ => throw new ArgumentException($"'{value}' is not valid; valid: {SchedulerValues}"),
    };

    private static bool ParseStepsOrNo(string value) => value.ToLowerInvariant() switch
    {
        "steps" => true,
        "no" => false,
        _ => throw new ArgumentException($"'{value}' is not valid; valid: steps, no"),
    };

    private static IReadOnlyList<string> Devices(RecipeValue value)
    {
        try
        {
            return Training.TrainingDevices.Normalize(value.StringList());
        }
        catch (ArgumentException e)
        {
            throw value.Fail(e.Message);
        }
    }

    private static IReadOnlyList<RewardWeight> WithFunctions(IReadOnlyList<RewardWeight> current, RecipeValue value)
    {
        var names = value.StringList(); // empty: the task's defaults
        // The names are checked against the recipe's task once every key is read (RecipeValidator).
        return names.Select((name, i) => new RewardWeight(
            name, i < current.Count && current.Count == names.Count ? current[i].Weight : 1.0)).ToArray();
    }

    private static IReadOnlyList<RewardWeight> WithWeights(IReadOnlyList<RewardWeight> current, RecipeValue value)
    {
        var weights = value.StringList().Select(w => double.TryParse(w, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d)
            ? d : throw value.Fail($"'{w}' is not a number")).ToArray();
        if (weights.Length != current.Count)
        {
            throw value.Fail($"{weights.Length} weights for {current.Count} reward functions (list reward_funcs first)");
        }

        return current.Select((r, i) => r with { Weight = weights[i] }).ToArray();
    }
}
