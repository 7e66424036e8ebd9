using System.Text.Json;
using System.Text.Json.Serialization;

namespace GrpoAspire.Model.Qwen2;

/// <summary>
/// A Hugging Face Qwen2 <c>config.json</c>. Reads both forms: transformers 4 (top-level <c>rope_theta</c>,
/// <c>torch_dtype</c>) and transformers 5 (<c>rope_parameters.rope_theta</c>, <c>dtype</c>).
/// </summary>
public sealed record Qwen2Config
{
    [JsonPropertyName("vocab_size")] public int VocabSize { get; init; } = 151936;
    [JsonPropertyName("hidden_size")] public int HiddenSize { get; init; } = 4096;
    [JsonPropertyName("intermediate_size")] public int IntermediateSize { get; init; } = 22016;
    [JsonPropertyName("num_hidden_layers")] public int NumHiddenLayers { get; init; } = 32;
    [JsonPropertyName("num_attention_heads")] public int NumAttentionHeads { get; init; } = 32;
    [JsonPropertyName("num_key_value_heads")] public int NumKeyValueHeads { get; init; } = 32;
    [JsonPropertyName("head_dim")] public int? HeadDimOverride { get; init; }
    [JsonPropertyName("max_position_embeddings")] public int MaxPositionEmbeddings { get; init; } = 32768;
    [JsonPropertyName("rms_norm_eps")] public double RmsNormEps { get; init; } = 1e-6;
    [JsonPropertyName("rope_theta")] public double? RopeThetaTopLevel { get; init; }
    [JsonPropertyName("rope_parameters")] public RopeParameters? RopeParameters { get; init; }
    [JsonPropertyName("tie_word_embeddings")] public bool TieWordEmbeddings { get; init; }
    [JsonPropertyName("hidden_act")] public string HiddenAct { get; init; } = "silu";
    [JsonPropertyName("use_sliding_window")] public bool UseSlidingWindow { get; init; }
    [JsonPropertyName("bos_token_id")] public int? BosTokenId { get; init; }
    [JsonPropertyName("eos_token_id")] public JsonElement? EosTokenIdRaw { get; init; }
    [JsonPropertyName("pad_token_id")] public int? PadTokenId { get; init; }
    [JsonPropertyName("torch_dtype")] public string? TorchDtype { get; init; }
    [JsonPropertyName("dtype")] public string? Dtype { get; init; }
    [JsonPropertyName("model_type")] public string ModelType { get; init; } = "qwen2";
    [JsonPropertyName("initializer_range")] public double InitializerRange { get; init; } = 0.02;

    [JsonIgnore] public int HeadDim => HeadDimOverride ?? (HiddenSize / NumAttentionHeads);

    [JsonIgnore] public double RopeTheta => RopeParameters?.RopeTheta ?? RopeThetaTopLevel ?? 10000.0;

    /// <summary>The checkpoint's dtype name ("bfloat16", "float32"), whichever key holds it.</summary>
    [JsonIgnore] public string? CheckpointDtype => Dtype ?? TorchDtype;

    /// <summary>End-of-sequence ids (<c>eos_token_id</c> may be an int or a list).</summary>
    [JsonIgnore]
    public IReadOnlyList<int> EosTokenIds => EosTokenIdRaw switch
    {
        { ValueKind: JsonValueKind.Number } e => [e.GetInt32()],
        { ValueKind: JsonValueKind.Array } e => e.EnumerateArray().Select(x => x.GetInt32()).ToArray(),
        _ => [],
    };

    public static Qwen2Config Load(string path)
    {
        if (Directory.Exists(path))
        {
            path = Path.Combine(path, "config.json");
        }

        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"no config.json at '{path}'", path);
        }

        Qwen2Config? config;
        try
        {
            config = JsonSerializer.Deserialize<Qwen2Config>(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a valid config.json ({e.Message})", e);
        }

        return (config ?? throw new InvalidDataException($"{path}: empty config")).Validated(path);
    }

    public Qwen2Config Validated(string source = "config")
    {
        void Require(bool condition, string message)
        {
            if (!condition)
            {
                throw new InvalidDataException($"{source}: {message}");
            }
        }

        Require(ModelType is "qwen2", $"model_type '{ModelType}' is not supported; valid: qwen2");
        Require(VocabSize > 0 && HiddenSize > 0 && IntermediateSize > 0 && NumHiddenLayers > 0, "sizes must be positive");
        Require(NumAttentionHeads > 0 && NumKeyValueHeads > 0 && NumAttentionHeads % NumKeyValueHeads == 0,
            $"num_attention_heads {NumAttentionHeads} must be a positive multiple of num_key_value_heads {NumKeyValueHeads}");
        Require(HeadDim % 2 == 0, $"head_dim {HeadDim} must be even for rotary embeddings");
        Require(HiddenAct == "silu", $"hidden_act '{HiddenAct}' is not supported; valid: silu");
        Require(!UseSlidingWindow, "use_sliding_window=true is not supported (Qwen2.5 checkpoints ship it off)");
        Require(RopeParameters?.RopeType is null or "default",
            $"rope_type '{RopeParameters?.RopeType}' is not supported; valid: default");
        return this;
    }

    public string ToJson() => JsonSerializer.Serialize(this, new JsonSerializerOptions { WriteIndented = true });
}

public sealed record RopeParameters
{
    [JsonPropertyName("rope_theta")] public double? RopeTheta { get; init; }
    [JsonPropertyName("rope_type")] public string? RopeType { get; init; }
}
