using static TorchSharp.torch;

namespace GrpoAspire.Model.Safetensors;

/// <summary>The safetensors dtype names and their TorchSharp types and sizes.</summary>
public static class SafetensorsDtype
{
    public static (ScalarType Type, int Size) Parse(string name, string where) => name switch
    {
        "F32" => (ScalarType.Float32, 4),
        "F16" => (ScalarType.Float16, 2),
        "BF16" => (ScalarType.BFloat16, 2),
        "F64" => (ScalarType.Float64, 8),
        "I64" => (ScalarType.Int64, 8),
        "I32" => (ScalarType.Int32, 4),
        "I16" => (ScalarType.Int16, 2),
        "I8" => (ScalarType.Int8, 1),
        "U8" => (ScalarType.Byte, 1),
        "BOOL" => (ScalarType.Bool, 1),
        _ => throw new InvalidDataException($"{where}: dtype '{name}' is not supported; valid: F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL"),
    };

    public static string NameOf(ScalarType type) => type switch
    {
        ScalarType.Float32 => "F32",
        ScalarType.Float16 => "F16",
        ScalarType.BFloat16 => "BF16",
        ScalarType.Float64 => "F64",
        ScalarType.Int64 => "I64",
        ScalarType.Int32 => "I32",
        ScalarType.Int16 => "I16",
        ScalarType.Int8 => "I8",
        ScalarType.Byte => "U8",
        ScalarType.Bool => "BOOL",
        _ => throw new ArgumentException($"tensors of type {type} cannot be saved as safetensors"),
    };

    public static int SizeOf(ScalarType type) => Parse(NameOf(type), "dtype").Size;
}
