using GrpoAspire.Grpo.Training;
using static TorchSharp.torch.utils.tensorboard;

namespace GrpoAspire.Grpo.Logging;

/// <summary>
/// TensorBoard event files (<c>events.out.tfevents.*</c>) through TorchSharp's SummaryWriter, with the same
/// metric names as <c>metrics.jsonl</c> under <c>train/</c>, as TRL reports them. The writer appends
/// each event to the file as it comes, so there is nothing to flush or close.
/// </summary>
public sealed class TensorBoardLogger(string logDirectory)
{
    private readonly TorchSharp.Modules.SummaryWriter _writer = SummaryWriter(logDirectory);

    public void Write(StepMetrics metrics)
    {
        foreach (var (name, value) in MetricsJsonlWriter.Fields(metrics))
        {
            if (name != "step" && double.IsFinite(value))
            {
                _writer.add_scalar("train/" + name, (float)value, metrics.Step);
            }
        }
    }
}
