namespace GrpoAspire.Grpo.Recipes;

/// <summary>Rules that involve several keys, with messages as clear as TRL's.</summary>
internal static class RecipeValidator
{
    public static void Validate(GrpoRecipe recipe, string source)
    {
        ValidateTask(recipe, source);

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

    private static void ValidateTask(GrpoRecipe recipe, string source)
    {
        Tasks.ITaskDefinition definition;
        try
        {
            definition = recipe.Definition();
        }
        catch (ArgumentException e)
        {
            throw new RecipeException($"{source}: task: {e.Message}");
        }

        try
        {
            _ = BuiltInTasks.BuiltInTasks.Catalog.Scorer(recipe.Task, recipe.Rewards);
        }
        catch (ArgumentException e)
        {
            throw new RecipeException($"{source}: {Tasks.ArgumentExceptionReason.Reason(e)}");
        }

        try
        {
            _ = recipe.Template();
        }
        catch (ArgumentException e)
        {
            throw new RecipeException($"{source}: prompt_template: {Tasks.ArgumentExceptionReason.Reason(e)}");
        }

        if (recipe.MaxTaskNumbers > 0 && definition.Task != Countdown.CountdownDefinition.Name)
        {
            throw new RecipeException($"{source}: max_task_numbers applies to countdown records only, not {definition.Task}");
        }
    }
}
