using Microsoft.Extensions.Options;

namespace GrpoAspire.Generation.Options;

/// <summary>The rules of <see cref="GenerationOptions"/> that need parsing: the decode names, configured or from the environment.</summary>
public sealed class GenerationOptionsValidator : IValidateOptions<GenerationOptions>
{
    public ValidateOptionsResult Validate(string? name, GenerationOptions options)
    {
        try
        {
            options.Decode();
            return ValidateOptionsResult.Success;
        }
        catch (ArgumentException e)
        {
            return ValidateOptionsResult.Fail(e.Message);
        }
    }
}
