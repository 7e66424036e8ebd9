using System.Text.Json;
using GrpoAspire.Grpo.Math;
using static TorchSharp.torch;

namespace GrpoAspire.Grpo.Tests;

/// <summary>Every case of ../shared/fixtures/grpo_loss_reference.json (TRL's formulas in PyTorch) within 1e-5.</summary>
public sealed class GrpoLossReferenceTests
{
    private const double Tolerance = 1e-5;

    private static readonly JsonElement Reference = JsonDocument.Parse(File.ReadAllText(
        Path.Combine(FindShared(), "fixtures", "grpo_loss_reference.json"))).RootElement;

    public static TheoryData<int> Cases()
    {
        var data = new TheoryData<int>();
        for (var i = 0; i < Reference.GetProperty("cases").GetArrayLength(); i++)
        {
            data.Add(i);
        }

        return data;
    }

    [Fact]
    public void TheReferenceHasFortyEightCases() => Assert.Equal(48, Reference.GetProperty("cases").GetArrayLength());

    [Theory]
    [MemberData(nameof(Cases))]
    public void LossGradientAdvantagesKlAndClipRatiosMatchTrl(int index)
    {
        using var scope = NewDisposeScope();
        var c = Reference.GetProperty("cases")[index];
        var g = Reference.GetProperty("num_generations").GetInt32();
        var rewards = Vector(Reference.GetProperty("rewards"));
        var mask = Matrix(Reference.GetProperty("completion_mask"));
        var logps = Matrix(Reference.GetProperty("per_token_logps")).requires_grad_(true);
        var old = Matrix(Reference.GetProperty("old_per_token_logps"));
        var reference = Matrix(Reference.GetProperty("ref_per_token_logps"));

        var advantages = Advantages.Compute(rewards, g, GrpoEnumNames.ParseScaleRewards(c.GetProperty("scale_rewards").GetString()!));
        var options = new GrpoLossOptions
        {
            Beta = c.GetProperty("beta").GetDouble(),
            EpsilonLow = c.GetProperty("epsilon_low").GetDouble(),
            EpsilonHigh = c.GetProperty("epsilon_high").GetDouble(),
            LossType = GrpoEnumNames.ParseLossType(c.GetProperty("loss_type").GetString()!),
            MaxCompletionLength = Reference.GetProperty("max_completion_length").GetInt32(),
        };
        var (loss, metrics) = GrpoLoss.Compute(logps, old, reference, advantages, mask, options);
        loss.backward();

        Assert.Equal(c.GetProperty("loss").GetDouble(), loss.item<float>(), Tolerance);
        AssertClose(Vector(c.GetProperty("advantages")), advantages, "advantages");
        AssertClose(Matrix(c.GetProperty("grad")), logps.grad!, "gradient");
        Assert.Equal(c.GetProperty("mean_kl").GetDouble(), metrics.MeanKl, Tolerance);
        Assert.Equal(c.GetProperty("clip_ratio_low").GetDouble(), metrics.ClipRatioLow, Tolerance);
        Assert.Equal(c.GetProperty("clip_ratio_high").GetDouble(), metrics.ClipRatioHigh, Tolerance);
    }

    private static void AssertClose(Tensor expected, Tensor actual, string what)
    {
        var difference = (expected - actual).abs().max().item<float>();
        Assert.True(difference <= Tolerance, $"{what}: max difference {difference}");
    }

    private static Tensor Vector(JsonElement e) =>
        tensor(e.EnumerateArray().Select(x => (float)x.GetDouble()).ToArray());

    private static Tensor Matrix(JsonElement e)
    {
        var rows = e.EnumerateArray().Select(r => r.EnumerateArray().Select(x => (float)x.GetDouble()).ToArray()).ToArray();
        return tensor(rows.SelectMany(r => r).ToArray(), [rows.Length, rows[0].Length]);
    }

    private static string FindShared()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "GrpoAspire.sln")))
        {
            directory = directory.Parent;
        }

        return Path.GetFullPath(Path.Combine(directory?.FullName ?? throw new InvalidOperationException("no GrpoAspire.sln found"), "..", "shared"));
    }
}
