namespace GrpoAspire.Grpo.Recipes;

/// <summary>Rules that involve several keys, with messages as clear as TRL's.</summary>
internal static class RecipeValidator
{
    public static void Validate(GrpoRecipe recipe, string source)
    {
        if (recipe.Rewards.Select(r => r.Function).Distinct().Count() != recipe.Rewards.Count)
        {
            throw new RecipeException($"{source}: reward_funcs: each reward function may appear once");
        }

        if (recipe.EpsilonHigh is { } high && high < recipe.Epsilon)
        {
            throw new RecipeException(
                $"{source}: epsilon_high {high} is below epsilon {recipe.Epsilon}; the upper clip must be at least the lower one");
        }

        if (recipe.TopK > 0 && recipe.Temperature <= 0)
        {
            throw new RecipeException($"{source}: top_k needs temperature > 0");
        }

        if (recipe.DataParallelDevices.Count > 0)
        {
            try
            {
                Training.TrainingDevices.RequireMaster(recipe.Device, recipe.DataParallelDevices);
            }
            catch (ArgumentException e)
            {
                throw new RecipeException($"{source}: {e.Message}");
            }
        }
    }
}
