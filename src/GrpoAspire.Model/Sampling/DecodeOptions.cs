using GrpoAspire.Model.Qwen2;

namespace GrpoAspire.Model.Sampling;

/// <summary>
/// How the samplers decode: the loop (<see cref="Sampler"/> only; <see cref="ContinuousSampler"/> has its own) and
/// the attention of a one-token step against the KV cache. Configuration and the environment name them in lower
/// case: loop auto | eager | fixed | graph, attention grouped | sdpa | sdpa-static.
/// </summary>
public sealed record DecodeOptions
{
    /// <summary>Overrides <see cref="Loop"/> where set (<see cref="WithEnvironment"/>).</summary>
    public const string LoopVariable = "GRPO_DECODE_LOOP";

    /// <summary>Overrides <see cref="Attention"/> where set (<see cref="WithEnvironment"/>).</summary>
    public const string AttentionVariable = "GRPO_DECODE_ATTENTION";

    private const string LoopNames = "auto, eager, fixed, graph";
    private const string AttentionNames = "grouped, sdpa, sdpa-static";

    /// <summary>Auto loop, grouped attention; no environment read.</summary>
    public static DecodeOptions Default { get; } = new();

    public DecodeLoopMode Loop { get; init; } = DecodeLoopMode.Auto;

    public DecodeAttentionMode Attention { get; init; } = DecodeAttentionMode.Grouped;

    /// <summary>The defaults with the environment's overrides: what a sampler constructed without options uses.</summary>
    public static DecodeOptions FromEnvironment() => Default.WithEnvironment();

    /// <summary>These options with <c>GRPO_DECODE_LOOP</c> / <c>GRPO_DECODE_ATTENTION</c> applied over them where set.</summary>
    public DecodeOptions WithEnvironment() => WithOverrides(Environment.GetEnvironmentVariable);

    /// <summary>These options with the values <paramref name="variable"/> gives for the two variable names applied over them.</summary>
    public DecodeOptions WithOverrides(Func<string, string?> variable)
    {
        ArgumentNullException.ThrowIfNull(variable);
        return this with
        {
            Loop = variable(LoopVariable) is { Length: > 0 } loop ? ParseLoop(loop, LoopVariable) : Loop,
            Attention = variable(AttentionVariable) is { Length: > 0 } attention ? ParseAttention(attention, AttentionVariable) : Attention,
        };
    }

    /// <param name="setting">Where the value came from, for the error (a variable or a configuration key).</param>
    public static DecodeLoopMode ParseLoop(string value, string setting) => value?.Trim().ToLowerInvariant() switch
    {
        "auto" => DecodeLoopMode.Auto,
        "eager" => DecodeLoopMode.Eager,
        "fixed" => DecodeLoopMode.Fixed,
        "graph" => DecodeLoopMode.Graph,
        _ => throw new ArgumentException($"{setting}='{value}' is not valid; valid: {LoopNames}"),
    };

    /// <param name="setting">Where the value came from, for the error (a variable or a configuration key).</param>
    public static DecodeAttentionMode ParseAttention(string value, string setting) => value?.Trim().ToLowerInvariant() switch
    {
        "grouped" => DecodeAttentionMode.Grouped,
        "sdpa" => DecodeAttentionMode.Sdpa,
        "sdpa-static" => DecodeAttentionMode.SdpaStatic,
        _ => throw new ArgumentException($"{setting}='{value}' is not valid; valid: {AttentionNames}"),
    };
}
