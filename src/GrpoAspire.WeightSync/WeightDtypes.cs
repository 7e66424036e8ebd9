using GrpoAspire.Model.Safetensors;
using static TorchSharp.torch;

namespace GrpoAspire.WeightSync;

/// <summary>
/// The dtype names of the weights stream ("float32", "bfloat16", "float16": the floating types a Qwen2 model is
/// trained or served in) and their TorchSharp types. Sizes come from <see cref="SafetensorsDtype"/>, so the
/// stream and the checkpoints agree on them. Parsing is strict: the wire carries one spelling per type, unlike
/// the aliases <c>TorchRuntime.ParseDtype</c> accepts from people.
/// </summary>
public static class WeightDtypes
{
    /// <summary>Every name the stream may carry.</summary>
    public static readonly IReadOnlyList<string> Names = ["float32", "bfloat16", "float16"];

    /// <summary>Whether tensors of <paramref name="type"/> can travel in the weights stream.</summary>
    public static bool IsSupported(ScalarType type) =>
        type is ScalarType.Float32 or ScalarType.BFloat16 or ScalarType.Float16;

    /// <summary>The wire name of <paramref name="type"/>; other types cannot travel in the weights stream.</summary>
    public static string NameOf(ScalarType type) => type switch
    {
        ScalarType.Float32 => "float32",
        ScalarType.BFloat16 => "bfloat16",
        ScalarType.Float16 => "float16",
        _ => throw new ArgumentException(
            $"tensors of type {type} cannot be synchronized; valid: {string.Join(", ", Names)}", nameof(type)),
    };

    /// <summary>The type and element size of a wire name, or false for any other string.</summary>
    public static bool TryParse(string name, out ScalarType type, out int size)
    {
        (type, var known) = name switch
        {
            "float32" => (ScalarType.Float32, true),
            "bfloat16" => (ScalarType.BFloat16, true),
            "float16" => (ScalarType.Float16, true),
            _ => (default, false),
        };
        size = known ? SafetensorsDtype.SizeOf(type) : 0;
        return known;
    }
}
