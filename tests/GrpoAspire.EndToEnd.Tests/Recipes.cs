namespace GrpoAspire.EndToEnd.Tests;

/// <summary>Recipes of the end-to-end runs: a tiny random model, generated tasks, a few steps on the CPU.</summary>
internal static class Recipes
{
    public static string Tiny(int maxSteps, int saveSteps, int completionTokens = 16, int prompts = 4, int generations = 4) => $"""
        model_name_or_path: random:tiny
        device: cpu
        dataset_id_or_path: generate
        max_tasks: 200
        eval_tasks: 20
        max_steps: {maxSteps}
        per_device_train_batch_size: {prompts}
        gradient_accumulation_steps: 1
        num_generations: {generations}
        max_prompt_length: 256
        max_completion_length: {completionTokens}
        learning_rate: 1.0e-3
        lr_scheduler_type: constant
        beta: 0.04
        logging_steps: 1
        save_strategy: steps
        save_steps: {saveSteps}
        seed: 7
        """;
}
