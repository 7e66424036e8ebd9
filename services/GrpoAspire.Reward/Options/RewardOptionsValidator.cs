using Microsoft.Extensions.Options;

namespace GrpoAspire.Reward.Options;

/// <summary>The rules of <see cref="RewardOptions"/> that span fields or need parsing.</summary>
public sealed class RewardOptionsValidator : IValidateOptions<RewardOptions>
{
    public ValidateOptionsResult Validate(string? name, RewardOptions options)
    {
        var failures = new List<string>();
        const string section = RewardOptions.SectionName;
        if ((long)options.MaxCompletionBytes + RewardOptions.CompletionOverheadBytes > RewardOptions.MaxMessageBytesCap)
        {
            failures.Add(
                $"{section}:MaxCompletionBytes {options.MaxCompletionBytes} plus "
                + $"{RewardOptions.CompletionOverheadBytes} bytes of per-completion overhead exceeds the gRPC "
                + $"message cap of {RewardOptions.MaxMessageBytesCap} bytes: such a completion could never be received");
        }

        if (options.MaxInFlightMessageBytes < options.MaxReceiveMessageBytes)
        {
            failures.Add(
                $"{section}:MaxInFlightMessageBytes {options.MaxInFlightMessageBytes} is below the largest message the "
                + $"service accepts, {options.MaxReceiveMessageBytes} bytes ({section}:MaxBatchSize x ({section}:MaxCompletionBytes + "
                + $"{RewardOptions.CompletionOverheadBytes}), at most {RewardOptions.MaxMessageBytesCap}): such a message could never be admitted");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
