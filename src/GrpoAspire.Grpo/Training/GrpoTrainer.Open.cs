using GrpoAspire.Grpo.Checkpoints;
using GrpoAspire.Grpo.Recipes;
using GrpoAspire.Model.Qwen2;
using GrpoAspire.Model.Tokenization;
using static TorchSharp.torch;

namespace GrpoAspire.Grpo.Training;

/// <summary>How a host starts a run of a resolved recipe: the checkpoint to resume, where rollouts come from, where progress lines go.</summary>
public sealed record TrainerStart(Action<string> Log, string? Resume = null, IRolloutSource? Rollouts = null);

public sealed partial class GrpoTrainer
{
    /// <summary>
    /// A trainer for <paramref name="recipe"/> (command-line options already applied), ready for its first step: data and
    /// model resolved before anything heavy is loaded (a bad path fails in milliseconds), the warm start trained when
    /// the embedded default is missing, and the starting model evaluated when the recipe asks (eval_on_start).
    /// </summary>
    public static async Task<GrpoTrainer> OpenAsync(GrpoRecipe recipe, TrainerStart start, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        ArgumentNullException.ThrowIfNull(start);
        var runDirectory = recipe.OutputDir;
        // Checked before anything heavy loads: a corrupt checkpoint fails in the time it takes to hash it, naming its bad file.
        var resume = CheckpointVerifier.ResolveResume(start.Resume, runDirectory, start.Log);
        var tasks = await TrainingData.LoadAsync(recipe, cancellationToken);
        start.Log($"data: {tasks.Count} training tasks ({TrainingData.Resolve(recipe).Description})");
        Directory.CreateDirectory(runDirectory);
        var modelFolder = recipe.ModelNameOrPath == ModelResolver.EmbeddedDefault
            ? Sft.WarmStart.Ensure(recipe.Device, start.Log, cancellationToken)
            : ModelResolver.Resolve(recipe.ModelNameOrPath, runDirectory, recipe.Seed);
        if (CheckpointManifest.Exists(modelFolder))
        {
            CheckpointVerifier.Verify(modelFolder, start.Log); // a checkpoint trained further from, or the reference
        }

        start.Log($"model: {modelFolder}" + (resume is null ? string.Empty : $", resuming from {resume}"));
        var setup = new TrainerSetup(recipe, modelFolder, QwenTokenizer.FromDirectory(modelFolder), tasks, runDirectory, resume, Rollouts: start.Rollouts, Log: start.Log);
        var trainer = new GrpoTrainer(setup);
        try
        {
            await trainer.EvaluateOnStartAsync();
            return trainer;
        }
        catch
        {
            trainer.Dispose();
            throw;
        }
    }

    private static ScalarType DtypeOf(GrpoRecipe recipe) =>
        recipe.Bf16 || recipe.TorchDtype == "bfloat16" ? ScalarType.BFloat16 : ScalarType.Float32;

    /// <summary>The policy, its frozen reference (none when beta = 0, as TRL) and its data-parallel replicas, from the start checkpoint.</summary>
    private static (Qwen2ForCausalLM Policy, Qwen2ForCausalLM? Reference, PolicyReplicas Replicas) LoadPolicies(TrainerSetup setup)
    {
        var recipe = setup.Recipe;
        var devices = TrainingDevices.Resolve(recipe);
        var dtype = DtypeOf(recipe);
        var start = setup.ResumeFrom ?? setup.ModelFolder;
        (Qwen2ForCausalLM Policy, Qwen2ForCausalLM? Reference) Load(Device device)
        {
            var policy = Qwen2Checkpoint.Load(start, device, dtype);
            policy.GradientCheckpointing = recipe.GradientCheckpointing;
            // The reference is the starting model; with data parallel each device holds one, so reference log-probs are
            // computed where their micro-batch trains.
            var reference = recipe.Beta != 0 ? Qwen2Checkpoint.Load(setup.ModelFolder, device, dtype) : null;
            foreach (var parameter in reference?.parameters() ?? [])
            {
                parameter.requires_grad = false;
            }

            return (policy, reference);
        }

        var (policy, reference) = Load(devices[0]);
        try
        {
            // Binds every replica's trainable parameters into flat buffers (one optimizer parameter, one-op zeroing,
            // clipping and copies); with one device this is the master alone.
            return (policy, reference, PolicyReplicas.Create(policy, reference, devices, Load));
        }
        catch
        {
            // A replica that cannot load (a device out of memory) leaves nothing behind: the master goes too.
            reference?.Dispose();
            policy.Dispose();
            throw;
        }
    }
}
